// The /usage page around <usage-page>: the gateway fills in #usage-page-config.
// Under `serve --demo` it lists the demo's identities (admin, member, operator) with
// their tokens, and the visitor switches between them; otherwise the visitor pastes an
// organization id and a token, which stay in this tab's memory only.
interface Identity {
  label: string;
  description: string;
  token: string;
  organizations: string[];
}
interface Config {
  identities: Identity[];
}

const config: Config = JSON.parse(document.getElementById('usage-page-config')?.textContent || '{"identities": []}');
const controls = document.getElementById('identity')!;
const slot = document.getElementById('page')!;

function mount(organization: string, token: string): void {
  const element = document.createElement('usage-page');
  element.setAttribute('organization', organization);
  element.token = token;
  element.addEventListener('usage-page-action', (event) => {
    const { action, target } = (event as CustomEvent<{ action: string; target: string | null }>).detail;
    const note = document.getElementById('action-note')!;
    note.textContent = `The host page would route “${action}”${target ? ` (${target})` : ''} here.`;
  });
  slot.replaceChildren(element);
}

function field(labelText: string, control: HTMLElement): HTMLElement {
  const wrapper = document.createElement('div');
  wrapper.className = 'field';
  const label = document.createElement('label');
  label.htmlFor = control.id;
  label.textContent = labelText;
  wrapper.append(label, control);
  return wrapper;
}

function demoSwitcher(identities: Identity[]): void {
  const who = document.createElement('select');
  who.id = 'identity-select';
  identities.forEach((identity, index) => who.add(new Option(`${identity.label} — ${identity.description}`, String(index))));
  const org = document.createElement('select');
  org.id = 'organization-select';
  const orgField = field('Organization', org);
  const refresh = () => {
    const identity = identities[Number(who.value)];
    org.replaceChildren(...identity.organizations.map((id) => new Option(id, id)));
    orgField.hidden = identity.organizations.length < 2;
    mount(identity.organizations[0], identity.token);
  };
  who.addEventListener('change', refresh);
  org.addEventListener('change', () => mount(org.value, identities[Number(who.value)].token));
  controls.append(field('View as', who), orgField);
  const params = new URLSearchParams(location.search);
  const wanted = identities.findIndex((identity) => identity.label === params.get('as'));
  if (wanted >= 0) who.value = String(wanted);
  refresh();
  const wantedOrg = params.get('organization');
  if (wantedOrg && identities[Number(who.value)].organizations.includes(wantedOrg)) {
    org.value = wantedOrg;
    mount(wantedOrg, identities[Number(who.value)].token);
  }
}

function tokenForm(): void {
  const form = document.createElement('form');
  const org = document.createElement('input');
  org.id = 'organization-input';
  org.required = true;
  org.autocomplete = 'off';
  const token = document.createElement('input');
  token.id = 'token-input';
  token.type = 'password';
  token.required = true;
  token.autocomplete = 'off';
  const submit = document.createElement('button');
  submit.type = 'submit';
  submit.textContent = 'Show usage';
  form.append(field('Organization id', org), field('Token (Bearer)', token), submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    mount(org.value.trim(), token.value.trim().replace(/^Bearer\s+/i, ''));
  });
  controls.append(form);
}

if (config.identities.length > 0) demoSwitcher(config.identities);
else tokenForm();
