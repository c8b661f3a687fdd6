const m = JSON.parse(document.getElementById("usage-page-config")?.textContent || '{"identities": []}'), g = document.getElementById("identity"), p = document.getElementById("page");
function s(n, t) {
  const e = document.createElement("usage-page");
  e.setAttribute("organization", n), e.token = t, e.addEventListener("usage-page-action", (o) => {
    const { action: r, target: i } = o.detail, c = document.getElementById("action-note");
    c.textContent = `The host page would route “${r}”${i ? ` (${i})` : ""} here.`;
  }), p.replaceChildren(e);
}
function u(n, t) {
  const e = document.createElement("div");
  e.className = "field";
  const o = document.createElement("label");
  return o.htmlFor = t.id, o.textContent = n, e.append(o, t), e;
}
function f(n) {
  const t = document.createElement("select");
  t.id = "identity-select", n.forEach((a, l) => t.add(new Option(`${a.label} — ${a.description}`, String(l))));
  const e = document.createElement("select");
  e.id = "organization-select";
  const o = u("Organization", e), r = () => {
    const a = n[Number(t.value)];
    e.replaceChildren(...a.organizations.map((l) => new Option(l, l))), o.hidden = a.organizations.length < 2, s(a.organizations[0], a.token);
  };
  t.addEventListener("change", r), e.addEventListener("change", () => s(e.value, n[Number(t.value)].token)), g.append(u("View as", t), o);
  const i = new URLSearchParams(location.search), c = n.findIndex((a) => a.label === i.get("as"));
  c >= 0 && (t.value = String(c)), r();
  const d = i.get("organization");
  d && n[Number(t.value)].organizations.includes(d) && (e.value = d, s(d, n[Number(t.value)].token));
}
function h() {
  const n = document.createElement("form"), t = document.createElement("input");
  t.id = "organization-input", t.required = !0, t.autocomplete = "off";
  const e = document.createElement("input");
  e.id = "token-input", e.type = "password", e.required = !0, e.autocomplete = "off";
  const o = document.createElement("button");
  o.type = "submit", o.textContent = "Show usage", n.append(u("Organization id", t), u("Token (Bearer)", e), o), n.addEventListener("submit", (r) => {
    r.preventDefault(), s(t.value.trim(), e.value.trim().replace(/^Bearer\s+/i, ""));
  }), g.append(n);
}
m.identities.length > 0 ? f(m.identities) : h();
