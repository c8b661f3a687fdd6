function k(s) {
  return s === null ? "null" : Array.isArray(s) ? "array" : typeof s;
}
function U(s) {
  return k(s) === "object";
}
function me(s) {
  return Array.isArray(s) && // must be at least one error
  s.length > 0 && // error has at least a message
  s.every((e) => "message" in e);
}
function se(s, e) {
  return s.length < 124 ? s : e;
}
const ge = "graphql-transport-ws";
var I = /* @__PURE__ */ ((s) => (s[s.InternalServerError = 4500] = "InternalServerError", s[s.InternalClientError = 4005] = "InternalClientError", s[s.BadRequest = 4400] = "BadRequest", s[s.BadResponse = 4004] = "BadResponse", s[s.Unauthorized = 4401] = "Unauthorized", s[s.Forbidden = 4403] = "Forbidden", s[s.SubprotocolNotAcceptable = 4406] = "SubprotocolNotAcceptable", s[s.ConnectionInitialisationTimeout = 4408] = "ConnectionInitialisationTimeout", s[s.ConnectionAcknowledgementTimeout = 4504] = "ConnectionAcknowledgementTimeout", s[s.SubscriberAlreadyExists = 4409] = "SubscriberAlreadyExists", s[s.TooManyInitialisationRequests = 4429] = "TooManyInitialisationRequests", s))(I || {}), C = /* @__PURE__ */ ((s) => (s.ConnectionInit = "connection_init", s.ConnectionAck = "connection_ack", s.Ping = "ping", s.Pong = "pong", s.Subscribe = "subscribe", s.Next = "next", s.Error = "error", s.Complete = "complete", s))(C || {});
function pe(s) {
  if (!U(s))
    throw new Error(
      `Message is expected to be an object, but got ${k(s)}`
    );
  if (!s.type)
    throw new Error("Message is missing the 'type' property");
  if (typeof s.type != "string")
    throw new Error(
      `Message is expects the 'type' property to be a string, but got ${k(
        s.type
      )}`
    );
  switch (s.type) {
    case "connection_init":
    case "connection_ack":
    case "ping":
    case "pong": {
      if (s.payload != null && !U(s.payload))
        throw new Error(
          `"${s.type}" message expects the 'payload' property to be an object or nullish or missing, but got "${s.payload}"`
        );
      break;
    }
    case "subscribe": {
      if (typeof s.id != "string")
        throw new Error(
          `"${s.type}" message expects the 'id' property to be a string, but got ${k(
            s.id
          )}`
        );
      if (!s.id)
        throw new Error(
          `"${s.type}" message requires a non-empty 'id' property`
        );
      if (!U(s.payload))
        throw new Error(
          `"${s.type}" message expects the 'payload' property to be an object, but got ${k(
            s.payload
          )}`
        );
      if (typeof s.payload.query != "string")
        throw new Error(
          `"${s.type}" message payload expects the 'query' property to be a string, but got ${k(
            s.payload.query
          )}`
        );
      if (s.payload.variables != null && !U(s.payload.variables))
        throw new Error(
          `"${s.type}" message payload expects the 'variables' property to be a an object or nullish or missing, but got ${k(
            s.payload.variables
          )}`
        );
      if (s.payload.operationName != null && k(s.payload.operationName) !== "string")
        throw new Error(
          `"${s.type}" message payload expects the 'operationName' property to be a string or nullish or missing, but got ${k(
            s.payload.operationName
          )}`
        );
      if (s.payload.extensions != null && !U(s.payload.extensions))
        throw new Error(
          `"${s.type}" message payload expects the 'extensions' property to be a an object or nullish or missing, but got ${k(
            s.payload.extensions
          )}`
        );
      break;
    }
    case "next": {
      if (typeof s.id != "string")
        throw new Error(
          `"${s.type}" message expects the 'id' property to be a string, but got ${k(
            s.id
          )}`
        );
      if (!s.id)
        throw new Error(
          `"${s.type}" message requires a non-empty 'id' property`
        );
      if (!U(s.payload))
        throw new Error(
          `"${s.type}" message expects the 'payload' property to be an object, but got ${k(
            s.payload
          )}`
        );
      break;
    }
    case "error": {
      if (typeof s.id != "string")
        throw new Error(
          `"${s.type}" message expects the 'id' property to be a string, but got ${k(
            s.id
          )}`
        );
      if (!s.id)
        throw new Error(
          `"${s.type}" message requires a non-empty 'id' property`
        );
      if (!me(s.payload))
        throw new Error(
          `"${s.type}" message expects the 'payload' property to be an array of GraphQL errors, but got ${JSON.stringify(
            s.payload
          )}`
        );
      break;
    }
    case "complete": {
      if (typeof s.id != "string")
        throw new Error(
          `"${s.type}" message expects the 'id' property to be a string, but got ${k(
            s.id
          )}`
        );
      if (!s.id)
        throw new Error(
          `"${s.type}" message requires a non-empty 'id' property`
        );
      break;
    }
    default:
      throw new Error(`Invalid message 'type' property "${s.type}"`);
  }
  return s;
}
function fe(s, e) {
  return pe(
    typeof s == "string" ? JSON.parse(s, e) : s
  );
}
function B(s, e) {
  return pe(s), JSON.stringify(s, e);
}
function be(s) {
  const {
    url: e,
    connectionParams: t,
    lazy: n = !0,
    onNonLazyError: a = console.error,
    lazyCloseTimeout: i = 0,
    keepAlive: o = 0,
    disablePong: d,
    connectionAckWaitTimeout: u = 0,
    retryAttempts: l = 5,
    retryWait: f = async function(y) {
      const p = Math.pow(2, y);
      await new Promise(
        (b) => setTimeout(
          b,
          p * 1e3 + // add random timeout from 300ms to 3s
          Math.floor(Math.random() * 2700 + 300)
        )
      );
    },
    shouldRetry: c = Q,
    on: m,
    webSocketImpl: E,
    /**
     * Generates a v4 UUID to be used as the ID using `Math`
     * as the random number generator. Supply your own generator
     * in case you need more uniqueness.
     *
     * Reference: https://gist.github.com/jed/982883
     */
    generateID: L = function() {
      return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (y) => {
        const p = Math.random() * 16 | 0;
        return (y == "x" ? p : p & 3 | 8).toString(16);
      });
    },
    jsonMessageReplacer: w,
    jsonMessageReviver: F
  } = s;
  let D;
  if (E) {
    if (!we(E))
      throw new Error("Invalid WebSocket implementation provided");
    D = E;
  } else typeof WebSocket < "u" ? D = WebSocket : typeof global < "u" ? D = global.WebSocket || // @ts-expect-error: Support more browsers
  global.MozWebSocket : typeof window < "u" && (D = window.WebSocket || // @ts-expect-error: Support more browsers
  window.MozWebSocket);
  if (!D)
    throw new Error(
      "WebSocket implementation missing; on Node you can `import WebSocket from 'ws';` and pass `webSocketImpl: WebSocket` to `createClient`"
    );
  const O = D, S = (() => {
    const h = /* @__PURE__ */ (() => {
      const p = {};
      return {
        on(b, x) {
          return p[b] = x, () => {
            delete p[b];
          };
        },
        emit(b) {
          "id" in b && p[b.id]?.(b);
        }
      };
    })(), y = {
      connecting: m?.connecting ? [m.connecting] : [],
      opened: m?.opened ? [m.opened] : [],
      connected: m?.connected ? [m.connected] : [],
      ping: m?.ping ? [m.ping] : [],
      pong: m?.pong ? [m.pong] : [],
      message: m?.message ? [h.emit, m.message] : [h.emit],
      closed: m?.closed ? [m.closed] : [],
      error: m?.error ? [m.error] : []
    };
    return {
      onMessage: h.on,
      on(p, b) {
        const x = y[p];
        return x.push(b), () => {
          const v = x.indexOf(b);
          v > -1 && x.splice(v, 1);
        };
      },
      emit(p, ...b) {
        for (const x of [...y[p]])
          x(...b);
      }
    };
  })();
  function Y(h) {
    const y = [
      // errors are fatal and more critical than close events, throw them first
      S.on("error", (p) => {
        y.forEach((b) => b()), h(p);
      }),
      // closes can be graceful and not fatal, throw them second (if error didnt throw)
      S.on("closed", (p) => {
        y.forEach((b) => b()), h(p);
      })
    ];
    return () => y.forEach((p) => p());
  }
  let P, R = 0, V, q = !1, W = 0, Z = !1;
  async function ee() {
    clearTimeout(V);
    const [h, y] = await (P ?? (P = new Promise(
      (x, v) => (async () => {
        if (q) {
          if (await f(W), !R)
            return P = void 0, v({ code: 1e3, reason: "All Subscriptions Gone" });
          W++;
        }
        S.emit("connecting", q);
        const g = new O(
          typeof e == "function" ? await e() : e,
          ge
        );
        let N, M;
        function _() {
          isFinite(o) && o > 0 && (clearTimeout(M), M = setTimeout(() => {
            g.readyState === O.OPEN && (g.send(B({ type: C.Ping })), S.emit("ping", !1, void 0));
          }, o));
        }
        Y((A) => {
          P = void 0, clearTimeout(N), clearTimeout(M), v(A), A instanceof ae && (g.close(4499, "Terminated"), g.onerror = null, g.onclose = null);
        }), g.onerror = (A) => S.emit("error", A), g.onclose = (A) => S.emit("closed", A), g.onopen = async () => {
          try {
            S.emit("opened", g);
            const A = typeof t == "function" ? await t() : t;
            if (g.readyState !== O.OPEN) return;
            g.send(
              B(
                A ? {
                  type: C.ConnectionInit,
                  payload: A
                } : {
                  type: C.ConnectionInit
                  // payload is completely absent if not provided
                },
                w
              )
            ), isFinite(u) && u > 0 && (N = setTimeout(() => {
              g.close(
                I.ConnectionAcknowledgementTimeout,
                "Connection acknowledgement timeout"
              );
            }, u)), _();
          } catch (A) {
            S.emit("error", A), g.close(
              I.InternalClientError,
              se(
                A instanceof Error ? A.message : String(A),
                "Internal client error"
              )
            );
          }
        };
        let z = !1;
        g.onmessage = ({ data: A }) => {
          try {
            const $ = fe(A, F);
            if (S.emit("message", $), $.type === "ping" || $.type === "pong") {
              S.emit($.type, !0, $.payload), $.type === "pong" ? _() : d || (g.send(
                B(
                  $.payload ? {
                    type: C.Pong,
                    payload: $.payload
                  } : {
                    type: C.Pong
                    // payload is completely absent if not provided
                  },
                  w
                )
              ), S.emit("pong", !1, $.payload));
              return;
            }
            if (z) return;
            if ($.type !== C.ConnectionAck)
              throw new Error(
                `First message cannot be of type ${$.type}`
              );
            clearTimeout(N), z = !0, S.emit("connected", g, $.payload, q), q = !1, W = 0;
            const re = new Promise(
              (Ge, he) => Y(he)
            );
            re.catch(() => {
            }), x([g, re]);
          } catch ($) {
            g.onmessage = null, S.emit("error", $), g.close(
              I.BadResponse,
              se(
                $ instanceof Error ? $.message : String($),
                "Bad response"
              )
            );
          }
        };
      })()
    )));
    h.readyState === O.CLOSING && await y;
    let p = () => {
    };
    const b = new Promise((x) => p = x);
    return [
      h,
      p,
      // resolves on release or rejects on error/close, whichever comes first.
      // not racing with throwOnClose on purpose, it lives as long as the socket
      // and every race would leak memory per operation
      new Promise((x, v) => {
        const g = Y(v);
        h.readyState !== O.OPEN && y.catch(v), b.then(() => {
          if (g(), !R) {
            const N = () => h.close(1e3, "Normal Closure");
            isFinite(i) && i > 0 ? (clearTimeout(V), V = setTimeout(() => {
              !R && h.readyState === O.OPEN && N();
            }, i)) : N();
          }
          x();
        });
      })
    ];
  }
  function te(h) {
    if (Q(h) && (ye(h.code) || [
      I.InternalServerError,
      I.InternalClientError,
      I.BadRequest,
      I.BadResponse,
      I.Unauthorized,
      // CloseCode.Forbidden, might grant access out after retry
      I.SubprotocolNotAcceptable,
      // CloseCode.ConnectionInitialisationTimeout, might not time out after retry
      // CloseCode.ConnectionAcknowledgementTimeout, might not time out after retry
      I.SubscriberAlreadyExists,
      I.TooManyInitialisationRequests
      // 4499, // Terminated, probably because the socket froze, we want to retry
    ].includes(h.code)))
      throw h;
    if (Z) return !1;
    if (Q(h) && h.code === 1e3)
      return R > 0;
    if (!l || W >= l || !c(h)) throw h;
    return q = !0;
  }
  n || (async () => {
    for (R++; ; )
      try {
        const [, , h] = await ee();
        await h;
      } catch (h) {
        try {
          if (!te(h)) return;
        } catch (y) {
          return a?.(y);
        }
      }
  })();
  function ne(h, y) {
    const p = L(h);
    let b = !1, x = !1, v = () => {
      R--, b = !0;
    };
    return (async () => {
      for (R++; ; )
        try {
          const [g, N, M] = await ee();
          if (b)
            return M.catch(() => {
            }), N();
          const _ = S.onMessage(p, (z) => {
            switch (z.type) {
              case C.Next: {
                y.next(z.payload);
                return;
              }
              case C.Error: {
                x = !0, b = !0, y.error(z.payload), v();
                return;
              }
              case C.Complete: {
                b = !0, v();
                return;
              }
            }
          });
          g.send(
            B(
              {
                id: p,
                type: C.Subscribe,
                payload: h
              },
              w
            )
          ), v = () => {
            !b && g.readyState === O.OPEN && g.send(
              B(
                {
                  id: p,
                  type: C.Complete
                },
                w
              )
            ), R--, b = !0, N();
          }, await M.finally(_);
          return;
        } catch (g) {
          if (!te(g)) return;
        }
    })().then(() => {
      x || y.complete();
    }).catch((g) => {
      y.error(g);
    }), () => {
      b || v();
    };
  }
  return {
    on: S.on,
    subscribe: ne,
    iterate(h) {
      const y = [], p = {
        done: !1,
        error: null,
        resolve: () => {
        }
      }, b = ne(h, {
        next(v) {
          y.push(v), p.resolve();
        },
        error(v) {
          p.done = !0, p.error = v, p.resolve();
        },
        complete() {
          p.done = !0, p.resolve();
        }
      }), x = (async function* () {
        for (; ; ) {
          for (y.length || await new Promise((g) => p.resolve = g); y.length; )
            yield y.shift();
          if (p.error)
            throw p.error;
          if (p.done)
            return;
        }
      })();
      return x.throw = async (v) => (p.done || (p.done = !0, p.error = v, p.resolve()), { done: !0, value: void 0 }), x.return = async () => (b(), { done: !0, value: void 0 }), x;
    },
    async dispose() {
      if (Z = !0, P) {
        const [h] = await P;
        h.close(1e3, "Normal Closure");
      }
    },
    terminate() {
      P && S.emit("closed", new ae());
    }
  };
}
class ae extends Error {
  name = "TerminatedCloseEvent";
  message = "4499: Terminated";
  code = 4499;
  reason = "Terminated";
  wasClean = !1;
}
function Q(s) {
  return U(s) && "code" in s && "reason" in s;
}
function ye(s) {
  return [
    1e3,
    // Normal Closure is not an erroneous close code
    1001,
    // Going Away
    1006,
    // Abnormal Closure
    1005,
    // No Status Received
    1012,
    // Service Restart
    1013,
    // Try Again Later
    1014
    // Bad Gateway
  ].includes(s) ? !1 : s >= 1e3 && s <= 1999;
}
function we(s) {
  return typeof s == "function" && "constructor" in s && "CLOSED" in s && "CLOSING" in s && "CONNECTING" in s && "OPEN" in s;
}
class H extends Error {
}
class xe {
  constructor(e, t) {
    this.endpoint = e, this.token = t;
  }
  endpoint;
  token;
  ws = null;
  async request(e, t, n) {
    let a;
    try {
      a = await fetch(this.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          authorization: `Bearer ${this.token}`
        },
        body: JSON.stringify({ query: e, variables: t, operationName: n })
      });
    } catch {
      throw new H("The gateway could not be reached.");
    }
    let i;
    try {
      i = await a.json();
    } catch {
      throw new H(`The gateway answered HTTP ${a.status}.`);
    }
    const o = i.errors ?? [];
    if (i.data == null && o.length === 0)
      throw new H(`The gateway answered HTTP ${a.status}.`);
    return { data: i.data ?? null, errors: o };
  }
  /** Calls `next` for every event; returns the unsubscribe function. */
  subscribe(e, t, n, a) {
    if (this.ws === null) {
      const i = new URL(this.endpoint, location.href);
      i.protocol = i.protocol === "https:" ? "wss:" : "ws:", this.ws = be({
        url: i.href,
        connectionParams: { Authorization: `Bearer ${this.token}` },
        retryAttempts: 1 / 0,
        shouldRetry: () => !0,
        on: {
          connecting: () => a("connecting"),
          connected: () => a("live"),
          closed: () => a("closed")
        }
      });
    }
    return this.ws.subscribe(
      { query: e, variables: t },
      {
        next: (i) => n({ data: i.data ?? null, errors: [...i.errors ?? []] }),
        error: (i) => a("error", i instanceof Error ? i.message : "The live connection failed."),
        complete: () => a("closed")
      }
    );
  }
  close() {
    this.ws?.dispose(), this.ws = null;
  }
}
const ve = `# The usage chart and the three breakdown tables ("Show More" passes endCursor as $after).
query UsageChart($org: ID!, $range: UsageRange!, $at: DateTime, $first: Int = 10, $after: String) {
  organization(id: $org, at: $at) {
    usageSeries(range: $range) {
      unit
      granularity
      points { start web cli api total }
    }
    topWorkspaces(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id name amount requests sharePercent } }
    }
    topWorkspaceGroups(first: $first) {
      totalCount
      edges { node { id name amount requests sharePercent } }
    }
    topUsers(first: $first) {
      totalCount
      edges { node { id name amount requests sharePercent } }
    }
  }
}
`, $e = `# The in-editor usage bar follows live usage (graphql-transport-ws over /graphql).
subscription UsageLive($org: ID!) {
  usageUpdated(organizationId: $org) {
    at
    meter
    used
    limit
    percent
    level
    credits { unit spent remaining progress prompts }
  }
}
`, Se = `# The web client's Usage page, composed in one request.
query UsagePage($org: ID!, $at: DateTime, $membersFirst: Int = 20) {
  viewer {
    id
    kind
    email
    name
  }
  organization(id: $org, at: $at) {
    id
    name
    billingModel
    billingState
    aiAccessPaused
    viewerRole
    viewerCan {
      viewDollars
      viewBillingDetails
      viewAnalytics
      manageSeats
      managePlan
    }
    plan {
      key
      name
      tier
      priceMonthly { amount currency }
      priceAnnual { amount currency }
    }
    planActions {
      upgrade
      manage
    }
    cycle {
      start
      end
      daysElapsed
      daysRemaining
    }
    seats {
      total
      allocated
      available
      byType { seatType cap allocated }
    }
    meters {
      ...MeterFields
    }
    credits {
      unit
      granted
      spent
      remaining
      progress
      pools { kind granted spent remaining expiresAt }
      avgPerDay
      runOutInDays
      onTrackToRunOut
      prompts
    }
    usageByOperation {
      operationType
      label
      unitLabel
      units
      displayUnits
      freeUnitsUsed
      freeAllowance
      creditsSpent
      sharePercent
      freeAllowanceHint
    }
    aiBudget {
      percentUsed
      resetsAt
      spentUsd
      limitUsd
      creditBalance
      categories { category tierLabel percent spentUsd }
    }
    dailyAllowance {
      message
      snapshot {
        status
        coverage
        usagePercent
        windowStart
        windowEnd
        lastSyncedAt
        unpricedEventCount
        topDefinitions { definitionId name relativeCostPercent }
      }
    }
    myUsage {
      meters { key label used limit sharesOrgPool caption level }
    }
    members(first: $membersFirst) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node { userId email name role teams seatStatus seatType }
      }
    }
  }
}

fragment MeterFields on Meter {
  key
  label
  category
  unitLabel
  used
  limit
  unlimited
  enforcement
  resets
  percent
  progress
  level
  remaining
  resetsAt
  blocked
  trend(months: 6) { start value }
}
`, Ae = `# The seat directory: search, filter and page through members.
query MemberDirectory(
  $org: ID!
  $search: String
  $role: Role
  $team: String
  $seatStatus: SeatStatus
  $first: Int = 25
  $after: String
) {
  organization(id: $org) {
    members(search: $search, role: $role, team: $team, seatStatus: $seatStatus, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node { userId email name role teams seatStatus seatType }
      }
    }
  }
}
`, Te = `# Seat management by organization admins.
mutation AllocateSeat($org: ID!, $user: ID!, $seatType: SeatType) {
  allocateSeat(organizationId: $org, userId: $user, seatType: $seatType) {
    member { userId seatStatus seatType }
    seats { total allocated available }
    userErrors { field code message }
  }
}

mutation DeallocateSeat($org: ID!, $user: ID!) {
  deallocateSeat(organizationId: $org, userId: $user) {
    member { userId seatStatus seatType }
    seats { total allocated available }
    userErrors { field code message }
  }
}

mutation ChangeSeats($org: ID!, $total: Int!) {
  changeSeats(organizationId: $org, total: $total) {
    seats { total allocated available }
    userErrors { field code message }
  }
}

mutation SetPersonalAllocation($org: ID!, $user: ID!, $meter: String!, $limit: Decimal) {
  setPersonalAllocation(organizationId: $org, userId: $user, meter: $meter, limit: $limit) {
    allocation { userId meter limit }
    userErrors { field code message }
  }
}
`, ke = Se, Ee = $e, Ie = ve, Ce = Ae, J = Te;
function r(s, e = null, ...t) {
  const n = document.createElement(s);
  for (const [a, i] of Object.entries(e ?? {}))
    i == null || i === !1 || (typeof i == "function" ? n.addEventListener(a.replace(/^on/, ""), i) : i === !0 ? n.setAttribute(a, "") : n.setAttribute(a, String(i)));
  return K(n, t), n;
}
const Ne = "http://www.w3.org/2000/svg";
function G(s, e = {}, ...t) {
  const n = document.createElementNS(Ne, s);
  for (const [a, i] of Object.entries(e)) n.setAttribute(a, String(i));
  for (const a of t) n.appendChild(a);
  return n;
}
function K(s, e) {
  for (const t of e)
    t == null || t === !1 || (Array.isArray(t) ? K(s, t) : s.appendChild(typeof t == "object" ? t : document.createTextNode(String(t))));
}
function j(s, ...e) {
  s.replaceChildren(), K(s, e);
}
class ie {
  constructor(e) {
    this.locale = e, this.integer = new Intl.NumberFormat(e, { maximumFractionDigits: 0 }), this.decimal = new Intl.NumberFormat(e, { maximumFractionDigits: 2 }), this.percentFormat = new Intl.NumberFormat(e, { style: "percent", maximumFractionDigits: 1 }), this.dateFormat = new Intl.DateTimeFormat(e, { dateStyle: "medium" }), this.dateTimeFormat = new Intl.DateTimeFormat(e, { dateStyle: "medium", timeStyle: "short" }), this.hourFormat = new Intl.DateTimeFormat(e, { hour: "numeric", minute: "2-digit" }), this.dayFormat = new Intl.DateTimeFormat(e, { month: "short", day: "numeric" });
  }
  locale;
  integer;
  decimal;
  percentFormat;
  dateFormat;
  dateTimeFormat;
  hourFormat;
  dayFormat;
  /** A Decimal string or number, with at most two fraction digits. */
  number(e) {
    if (e == null) return "—";
    const t = Number(e);
    return Math.abs(t) >= 1e3 ? this.integer.format(t) : this.decimal.format(t);
  }
  /** A percentage as the gateway gives it (0–100, may pass 100). */
  percent(e) {
    return e == null ? "—" : this.percentFormat.format(e / 100);
  }
  money(e, t = "USD") {
    return e == null ? "—" : new Intl.NumberFormat(this.locale, { style: "currency", currency: t }).format(Number(e));
  }
  /** An amount in a meter's unit: bytes scale to kB…TB, USD is money. */
  quantity(e, t) {
    return e == null ? "—" : t === "bytes" ? this.bytes(Number(e)) : t === "USD" || t === "dollars" ? this.money(e) : `${this.number(e)} ${t}`;
  }
  /** "41,410 of 50,000 contacts": the unit once, after the limit. */
  usedOf(e, t, n) {
    return n === "bytes" || n === "USD" || n === "dollars" ? `${this.quantity(e, n)} of ${this.quantity(t, n)}` : `${this.number(e)} of ${this.number(t)} ${n}`;
  }
  bytes(e) {
    const t = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"];
    let n = 0;
    for (; Math.abs(e) >= 1e3 && n < t.length - 1; )
      e /= 1e3, n += 1;
    return new Intl.NumberFormat(this.locale, {
      style: "unit",
      unit: t[n],
      unitDisplay: "short",
      maximumFractionDigits: 1
    }).format(e);
  }
  date(e) {
    return e ? this.dateFormat.format(new Date(e)) : "—";
  }
  dateTime(e) {
    return e ? this.dateTimeFormat.format(new Date(e)) : "—";
  }
  bucket(e, t) {
    const n = new Date(e);
    return t === "HOUR" ? this.hourFormat.format(n) : this.dayFormat.format(n);
  }
}
const De = {
  CORE_LIMITS: "Core limits",
  MONTHLY_ACTIVITY: "Monthly activity",
  DATA_OPERATIONS: "Data operations",
  QUOTA: "Per-seat quotas",
  AI_BUDGET: "AI budget",
  OPERATIONS: "Operations",
  RUNTIME: "Runtime"
}, Re = {
  HARD: "Hard cap",
  SOFT: "Soft cap (+10 %)",
  NONE: "Not enforced"
}, oe = {
  NORMAL: "Normal",
  WARNING: "Warning",
  CRITICAL: "Critical",
  EXCEEDED: "Limit reached"
}, Oe = {
  EMAIL: "Email",
  CHIPS: "Chips",
  SUMMARY: "Summary",
  AGENT: "Agent",
  COACHING: "Coaching",
  CHAT: "Chat"
}, Pe = {
  ADVANCED_REASONING: "Advanced reasoning",
  STANDARD: "Standard",
  FAST: "Fast",
  LIGHT: "Light"
}, Ue = {
  MONTHLY: "Monthly",
  BONUS: "Bonus",
  PURCHASED: "Purchased"
}, le = {
  MEMBER: "Member",
  MANAGER: "Manager",
  ADMIN: "Admin",
  SUPER_ADMIN: "Super admin"
}, ce = {
  POWER: "Power",
  COLLABORATOR: "Collaborator"
}, Le = {
  WITHIN_LIMIT: "Within limit",
  OVER_LIMIT: "Over limit",
  UNLIMITED: "Unlimited"
}, Me = {
  COMPLETE: "Complete pricing coverage",
  PARTIAL: "Partial pricing coverage"
}, ze = [
  { value: "LAST_24_HOURS", label: "24 h", long: "Last 24 hours" },
  { value: "LAST_7_DAYS", label: "7 d", long: "Last 7 days" },
  { value: "LAST_30_DAYS", label: "30 d", long: "Last 30 days" }
], de = { HOUR: "hourly", DAY: "daily", WEEK: "weekly" }, T = (s, e) => e == null ? "—" : s[e] ?? e, Fe = ':host{--up-text: #1f2937;--up-muted: #4b5563;--up-bg: #ffffff;--up-panel: #ffffff;--up-border: #d1d5db;--up-accent: #1d4ed8;--up-normal: #2563eb;--up-warning: #ca8a04;--up-critical: #ea580c;--up-exceeded: #dc2626;--up-web: #2563eb;--up-cli: #9333ea;--up-api: #0d9488;--up-bonus: #16a34a;--up-purchased: #9333ea;display:block;color:var(--up-text);background:var(--up-bg);font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,Noto Sans,sans-serif}*{box-sizing:border-box}[hidden]{display:none!important}.page{max-width:1200px;margin:0 auto;padding:16px}.page-header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:8px}h1{font-size:1.6rem;margin:0 0 8px}h2{font-size:1.15rem;margin:0 0 12px}h3{font-size:1rem;margin:16px 0 8px}h4,.meter-head h3{font-size:.95rem;margin:0}.live{font-size:.85rem;color:var(--up-muted)}.live[data-state=live]:before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:#15803d;margin-right:6px}.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}.panel{background:var(--up-panel);border:1px solid var(--up-border);border-radius:10px;padding:16px;min-width:0}.panel-meters,.panel-chart,.panel-top,.panel-directory,.panel-operations{grid-column:1 / -1}.panel-body.refreshing{opacity:.6}.loading{color:var(--up-muted)}.loading:after{content:"";display:block;height:10px;margin-top:8px;border-radius:5px;background:linear-gradient(90deg,#e5e7eb,#f3f4f6,#e5e7eb)}.error{border-left:4px solid var(--up-exceeded);padding:8px 12px;background:#fef2f2;color:#7f1d1d}.empty{color:var(--up-muted)}.empty.dashed{border:2px dashed var(--up-border);border-radius:8px;padding:16px;text-align:center}.notice{background:#eff6ff;color:#1e3a8a;border-radius:6px;padding:8px 12px}.muted{color:var(--up-muted);font-size:.9rem;margin:6px 0}.amount{font-size:1.05rem;font-weight:600;margin:6px 0}.banners{display:grid;gap:8px;margin-bottom:16px}.banner{border-radius:8px;padding:12px 16px;border:1px solid}.banner-danger{background:#fee2e2;border-color:#b91c1c;color:#7f1d1d}.banner-warning{background:#fef3c7;border-color:#b45309;color:#78350f}.banner button{margin-left:8px}.badge{display:inline-block;font-size:.75rem;font-weight:600;padding:2px 8px;border-radius:999px;background:#e5e7eb;color:#111827;white-space:nowrap}.status-over_limit{background:#fee2e2;color:#7f1d1d}.status-within_limit{background:#dcfce7;color:#14532d}.bar{position:relative;height:10px;border-radius:5px;background:#e5e7eb;overflow:hidden;display:flex}.bar .fill,.bar .segment{display:block;height:100%;background:var(--up-normal);transition:width .3s ease}.bar.level-warning .fill{background:var(--up-warning)}.bar.level-critical .fill{background:var(--up-critical)}.bar.level-exceeded .fill{background:var(--up-exceeded)}.segment.pool-bonus,.swatch.pool-bonus{background:var(--up-bonus)}.segment.pool-purchased,.swatch.pool-purchased{background:var(--up-purchased)}.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;background:var(--up-normal)}.swatch.source-cli{background:var(--up-cli)}.swatch.source-api{background:var(--up-api)}.legend{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.9rem}.metrics{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:8px;margin:12px 0 0}.metric{border:1px solid var(--up-border);border-radius:8px;padding:8px 10px}.metric dt{font-size:.8rem;color:var(--up-muted)}.metric dd{margin:0;font-size:1.1rem;font-weight:600}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:12px}.meter{border:1px solid var(--up-border);border-radius:8px;padding:10px 12px}.meter-head{display:flex;justify-content:space-between;gap:8px;align-items:baseline}.meta{font-size:.85rem;color:var(--up-muted);margin:6px 0 0}.level-text.level-warning{color:#854d0e;font-weight:600}.level-text.level-critical{color:#9a3412;font-weight:600}.level-text.level-exceeded{color:#991b1b;font-weight:600}.blocked{color:#991b1b}.sparkline{display:block;width:100%;height:24px;margin-top:6px;stroke:var(--up-muted)}.plan-name{font-size:1.2rem;font-weight:600;margin:0}.prices{list-style:none;padding:0;margin:6px 0}.prices .value{font-weight:600}.actions{display:flex;flex-wrap:wrap;gap:8px;margin-top:12px}button{font:inherit;padding:6px 12px;border-radius:6px;border:1px solid var(--up-accent);background:#fff;color:var(--up-accent);cursor:pointer;min-height:32px}button.primary,button[aria-pressed=true]{background:var(--up-accent);color:#fff}button:hover{filter:brightness(.95)}:focus-visible{outline:3px solid var(--up-accent);outline-offset:2px}input,select{font:inherit;padding:5px 8px;border:1px solid #6b7280;border-radius:6px;background:#fff;color:var(--up-text);min-height:32px}label{font-size:.85rem;color:var(--up-muted);display:block}.inline-form{display:flex;flex-wrap:wrap;align-items:end;gap:8px;margin-top:12px}.inline-form label{width:100%}.inline-form input{width:7em}.form-status{font-size:.9rem;color:var(--up-muted);min-height:1.2em;margin:6px 0}.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin-bottom:12px}.field{display:grid;gap:2px}.seat-action{display:inline-flex;gap:4px;flex-wrap:wrap}.panel-tools{float:right}.range{display:inline-flex;gap:4px;margin-bottom:8px}figure{margin:0}.chart{display:block;width:100%;height:180px;background:linear-gradient(#f3f4f6 1px,transparent 1px) 0 0 / 100% 25%}.chart .source-web{fill:var(--up-web)}.chart .source-cli{fill:var(--up-cli)}.chart .source-api{fill:var(--up-api)}details{margin-top:8px}summary{cursor:pointer;color:var(--up-accent)}.top-table{margin-bottom:16px}.top-table{display:block}.panel-top .panel-body{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:16px}table{width:100%;border-collapse:collapse;font-size:.9rem}caption{text-align:left;font-weight:600;margin-bottom:6px}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top}th{font-size:.8rem;color:var(--up-muted);font-weight:600}td{overflow-wrap:anywhere}.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}@media(max-width:900px){.grid,.panel-top .panel-body{grid-template-columns:minmax(0,1fr)}}@media(max-width:640px){.page{padding:8px}.panel{padding:12px}h1{font-size:1.3rem}thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}table,tbody,tr,td{display:block;width:100%}tr{border-bottom:1px solid var(--up-border);padding:6px 0}td{border:0;padding:2px 0;display:flex;gap:8px}td:before{content:attr(data-label);flex:0 0 40%;color:var(--up-muted);font-size:.8rem}}@media(prefers-reduced-motion:reduce){.bar .fill,.bar .segment{transition:none}}', X = [
  ["plan", "Plan"],
  ["credits", "Credits this cycle"],
  ["seats", "Seats"],
  ["ai", "AI usage this cycle"],
  ["meters", "Organization meters"],
  ["mine", "Your usage"],
  ["operations", "Usage by operation"],
  ["allowance", "Daily credit usage"],
  ["chart", "Usage over time"],
  ["top", "Top consumers"],
  ["directory", "Members and seats"]
], qe = {
  plan: "plan",
  planActions: "plan",
  cycle: "credits",
  credits: "credits",
  seats: "seats",
  aiBudget: "ai",
  meters: "meters",
  myUsage: "mine",
  usageByOperation: "operations",
  dailyAllowance: "allowance",
  members: "directory",
  usageSeries: "chart",
  topWorkspaces: "top",
  topWorkspaceGroups: "top",
  topUsers: "top"
}, Be = import.meta.url;
let We = 0;
class _e extends HTMLElement {
  static observedAttributes = ["organization", "token", "endpoint", "locale", "page-size"];
  tokenValue = null;
  client = null;
  unsubscribe = null;
  root;
  panels = /* @__PURE__ */ new Map();
  banners;
  liveStatus;
  heading;
  announcer;
  fmt = new ie(void 0);
  org = null;
  range = "LAST_7_DAYS";
  top = null;
  directory = null;
  refreshTimer;
  generation = 0;
  started = !1;
  showDollars = !0;
  uid = `up${We += 1}`;
  constructor() {
    if (super(), this.root = this.attachShadow({ mode: "open" }), Object.prototype.hasOwnProperty.call(this, "token")) {
      const e = this.token;
      delete this.token, this.token = e;
    }
  }
  /** The bearer token (a user's JWT or an API key); set by the host page. */
  get token() {
    return this.tokenValue ?? this.getAttribute("token");
  }
  set token(e) {
    this.tokenValue = e, this.started && this.restart();
  }
  connectedCallback() {
    this.started = !0, this.restart();
  }
  disconnectedCallback() {
    this.started = !1, this.stop();
  }
  attributeChangedCallback() {
    this.started && this.restart();
  }
  get endpoint() {
    return this.getAttribute("endpoint") ?? new URL("/graphql", Be).href;
  }
  get pageSize() {
    const e = Number(this.getAttribute("page-size") ?? 5);
    return Number.isInteger(e) && e > 0 ? e : 5;
  }
  stop() {
    this.generation += 1, this.unsubscribe?.(), this.unsubscribe = null, this.client?.close(), this.client = null, window.clearTimeout(this.refreshTimer);
  }
  restart() {
    this.stop();
    const e = this.getAttribute("locale") || document.documentElement.lang || void 0;
    this.fmt = new ie(e), this.org = null, this.top = null, this.directory = null, this.layout();
    const t = this.getAttribute("organization"), n = this.token;
    if (!t || !n) {
      for (const a of this.panels.values()) a.section.hidden = !0;
      j(this.banners, r("p", { class: "notice" }, "Choose an organization and supply a token to see usage."));
      return;
    }
    this.client = new xe(this.endpoint, n), this.load(!1);
  }
  // ----- layout -------------------------------------------------------------------
  layout() {
    this.panels.clear();
    const e = r("style");
    e.textContent = Fe, this.heading = r("h1", { id: `${this.uid}-title` }, "Usage"), this.liveStatus = r("span", { class: "live", role: "status" }, ""), this.announcer = r("p", { class: "visually-hidden", "aria-live": "polite" }), this.banners = r("div", { class: "banners" });
    const t = r("div", { class: "grid" });
    for (const [n, a] of X) {
      const i = `${this.uid}-${n}`, o = r("div", { class: "panel-body", "aria-busy": "true" }, r("p", { class: "loading" }, "Loading…")), d = r(
        "section",
        { class: `panel panel-${n}`, "aria-labelledby": i, "data-panel": n },
        r("h2", { id: i }, a),
        o
      );
      this.panels.set(n, { section: d, body: o }), t.appendChild(d);
    }
    j(
      this.root,
      e,
      r(
        "div",
        { class: "page", role: "region", "aria-labelledby": `${this.uid}-title` },
        r("header", { class: "page-header" }, this.heading, this.liveStatus),
        this.announcer,
        this.banners,
        t
      )
    );
  }
  panel(e) {
    return this.panels.get(e);
  }
  fill(e, ...t) {
    const { body: n, section: a } = this.panel(e);
    a.hidden = !1, n.removeAttribute("aria-busy"), n.classList.remove("refreshing"), j(n, ...t);
  }
  hide(e) {
    this.panel(e).section.hidden = !0;
  }
  loading(e) {
    const { body: t } = this.panel(e);
    t.setAttribute("aria-busy", "true"), t.classList.add("refreshing");
  }
  failed(e, t, n) {
    this.fill(
      e,
      r(
        "div",
        { class: "error", role: "alert" },
        r("p", null, `This panel could not be loaded: ${t}`),
        r("button", { type: "button", onclick: n }, "Retry")
      )
    );
  }
  // ----- the first paint (UsagePage) ----------------------------------------------
  async load(e) {
    const t = this.client, n = this.generation;
    if (t === null) return;
    const a = this.getAttribute("organization");
    let i;
    try {
      i = await t.request(ke, {
        org: a,
        membersFirst: 20
      });
    } catch (l) {
      if (n !== this.generation || e) return;
      const f = l instanceof H ? l.message : String(l);
      for (const [c] of X) this.failed(c, f, () => this.restart());
      return;
    }
    if (n !== this.generation) return;
    const o = i.data?.organization ?? null;
    if (o === null) {
      if (e) return;
      const l = i.errors[0]?.message ?? "No such organization.";
      for (const [f] of X) this.failed(f, l, () => this.restart());
      return;
    }
    const d = ue(i.errors);
    this.org = o, this.heading.textContent = `Usage — ${o.name}`, this.renderBanners(o);
    const u = [
      ["plan", () => this.renderPlan(o)],
      ["credits", () => this.renderCredits(o)],
      ["seats", () => this.renderSeats(o)],
      ["ai", () => this.renderAi(o)],
      ["meters", () => this.renderMeters(o)],
      ["mine", () => this.renderMine(o)],
      ["operations", () => this.renderOperations(o)],
      ["allowance", () => this.renderAllowance(o)]
    ];
    e || u.push(["directory", () => this.renderDirectoryFromPage(o)]);
    for (const [l, f] of u) {
      const c = d.get(l);
      c ? this.failed(l, c, () => {
        this.load(!1);
      }) : f();
    }
    e || (this.loadChart(!1), this.subscribe(a));
  }
  scheduleRefresh() {
    window.clearTimeout(this.refreshTimer), this.refreshTimer = window.setTimeout(() => {
      this.load(!0), this.loadChart(!0);
    }, 1500);
  }
  // ----- live (UsageLive) ---------------------------------------------------------
  subscribe(e) {
    const t = this.client;
    t !== null && (this.setLive("connecting"), this.unsubscribe = t.subscribe(
      Ee,
      { org: e },
      (n) => {
        const a = n.data?.usageUpdated;
        a && this.applyTick(a);
      },
      (n, a) => this.setLive(n, a)
    ));
  }
  setLive(e, t) {
    const n = {
      connecting: "Connecting live updates…",
      live: "Live",
      closed: "Live updates paused",
      error: `Live updates unavailable${t ? `: ${t}` : ""}`
    }[e];
    this.liveStatus.textContent = n, this.liveStatus.dataset.state = e;
  }
  applyTick(e) {
    const t = this.org;
    if (t === null) return;
    const n = t.meters.find((a) => a.key === e.meter);
    n && (n.used = e.used, n.limit = e.limit, n.percent = e.percent, n.level = e.level, n.progress = e.percent === null ? null : Math.min(1, Math.max(0, e.percent / 100)), (this.panel("meters").body.querySelector(`[data-meter="${CSS.escape(n.key)}"]`) ?? this.panel("seats").body.querySelector(`[data-meter="${CSS.escape(n.key)}"]`))?.replaceWith(this.meterCard(n))), e.credits && t.credits && (Object.assign(t.credits, e.credits), this.renderCredits(t)), this.scheduleRefresh();
  }
  // ----- banners ------------------------------------------------------------------
  renderBanners(e) {
    const t = [];
    e.aiAccessPaused && t.push(
      r(
        "div",
        { class: "banner banner-danger", role: "alert", "data-banner": "ai-paused" },
        r("strong", null, "AI access is paused. "),
        "A payment is past due and its retries are exhausted, so every AI request is denied. ",
        e.viewerCan.managePlan ? "Update the payment method in Billing settings to restore access." : "Ask an admin to update the payment method in Billing settings."
      )
    );
    const n = e.credits;
    n?.onTrackToRunOut && t.push(
      r(
        "div",
        { class: "banner banner-warning", role: "status", "data-banner": "run-out" },
        r("strong", null, "On track to run out. "),
        n.runOutInDays === null ? "At the current rate the credits run out before this cycle ends. " : `At the current rate the credits run out in ${this.fmt.number(n.runOutInDays)} days, before this cycle ends. `,
        this.upgradeButton(e)
      )
    ), j(this.banners, ...t);
  }
  action(e, t = null) {
    this.dispatchEvent(
      new CustomEvent("usage-page-action", { detail: { action: e, target: t }, bubbles: !0, composed: !0 })
    );
  }
  upgradeButton(e) {
    const t = e.planActions.upgrade;
    return t === null ? null : r(
      "button",
      { type: "button", class: "primary", "data-action": "upgrade", onclick: () => this.action("upgrade", t) },
      t === "SIGNUP_WIZARD" ? "Upgrade — choose a plan" : "Upgrade in Billing settings"
    );
  }
  // ----- plan ---------------------------------------------------------------------
  renderPlan(e) {
    const t = e.plan;
    if (t === null) {
      this.fill("plan", r("p", { class: "empty" }, "No subscription: this organization has no plan yet."));
      return;
    }
    const n = (a, i) => a ? r("li", null, r("span", { class: "value" }, this.fmt.money(a.amount, a.currency)), ` per ${i}`) : null;
    this.fill(
      "plan",
      r("p", { class: "plan-name" }, t.name, " ", r("span", { class: "badge" }, t.tier)),
      r("ul", { class: "prices" }, n(t.priceMonthly, "month"), n(t.priceAnnual, "year")),
      e.cycle ? r("p", { class: "muted" }, `Cycle ${this.fmt.date(e.cycle.start)} – ${this.fmt.date(e.cycle.end)}`) : null,
      r(
        "div",
        { class: "actions" },
        this.upgradeButton(e),
        e.planActions.manage ? r("button", { type: "button", "data-action": "manage-plan", onclick: () => this.action("manage-plan") }, "Manage plan") : null
      )
    );
  }
  // ----- credits ------------------------------------------------------------------
  credit(e, t) {
    return t === "USD" ? this.fmt.money(e) : `${this.fmt.number(e)} credits`;
  }
  renderCredits(e) {
    const t = e.credits;
    if (t === null) {
      this.fill("credits", r("p", { class: "empty" }, "No credits: this organization has no subscription."));
      return;
    }
    const n = e.cycle, a = t.unit, i = (l, f, c) => r("div", { class: "metric", "data-metric": c }, r("dt", null, l), r("dd", null, f));
    if (t.granted === "0" && t.spent === "0" && t.remaining === "0") {
      this.fill(
        "credits",
        r("p", { class: "empty", "data-credits-summary": "" }, "This plan grants no credits: its usage is counted on the meters."),
        r(
          "dl",
          { class: "metrics" },
          i("Days remaining", n ? this.fmt.number(n.daysRemaining) : "—", "days-remaining"),
          i("Days elapsed", n ? this.fmt.number(n.daysElapsed) : "—", "days-elapsed")
        )
      );
      return;
    }
    const o = t.pools.reduce((l, f) => l + Number(f.granted), 0), d = t.pools.map(
      (l, f) => r("span", {
        class: `segment pool-${l.kind.toLowerCase()}`,
        style: `width: ${o > 0 ? Number(l.spent) / o * 100 : 0}%`,
        "data-pool": `${l.kind}-${f}`
      })
    ), u = t.spent !== null && t.granted !== null ? `${this.credit(t.spent, a)} of ${this.credit(t.granted, a)} used` : `${this.fmt.percent(t.progress * 100)} used`;
    this.fill(
      "credits",
      r("p", { class: "amount", "data-credits-summary": "" }, u),
      r(
        "div",
        {
          class: "bar stacked",
          role: "progressbar",
          "aria-label": "Credits used this cycle",
          "aria-valuemin": 0,
          "aria-valuemax": 100,
          "aria-valuenow": Math.round(t.progress * 100),
          "aria-valuetext": u
        },
        d.length > 0 ? d : r("span", { class: "segment", style: `width: ${t.progress * 100}%` })
      ),
      t.pools.length > 0 ? r(
        "ul",
        { class: "legend pools" },
        t.pools.map(
          (l) => r(
            "li",
            { "data-pool-kind": l.kind },
            r("span", { class: `swatch pool-${l.kind.toLowerCase()}`, "aria-hidden": "true" }),
            `${T(Ue, l.kind)}: ${this.credit(l.spent, a)} spent, ${this.credit(l.remaining, a)} left`,
            l.expiresAt ? ` (expires ${this.fmt.date(l.expiresAt)})` : ""
          )
        )
      ) : null,
      r(
        "dl",
        { class: "metrics" },
        i("Days remaining", n ? this.fmt.number(n.daysRemaining) : "—", "days-remaining"),
        i("Days elapsed", n ? this.fmt.number(n.daysElapsed) : "—", "days-elapsed"),
        i("Avg per day", t.avgPerDay === null ? "—" : this.credit(t.avgPerDay, a), "avg-per-day"),
        i(
          "Run out in",
          t.runOutInDays === null ? "Not projected" : `${this.fmt.number(t.runOutInDays)} days`,
          "run-out"
        )
      ),
      t.remaining !== null ? r("p", { class: "muted" }, `${this.credit(t.remaining, a)} remaining`) : null,
      t.prompts.length > 0 ? r(
        "div",
        { class: "actions prompts" },
        t.prompts.includes("UPGRADE") ? this.upgradeButton(e) : null,
        t.prompts.includes("REFERRAL") ? r(
          "button",
          { type: "button", "data-action": "referral", onclick: () => this.action("referral") },
          "Invite a friend, earn bonus credits"
        ) : null
      ) : null
    );
  }
  // ----- seats and per-seat quotas -----------------------------------------------
  renderSeats(e) {
    const t = e.seats, n = e.meters.filter((o) => o.category === "QUOTA");
    if (t === null) {
      this.fill("seats", r("p", { class: "empty" }, "No subscription: no seats."));
      return;
    }
    const a = (o, d, u) => r("div", { class: "metric", "data-seats": u }, r("dt", null, o), r("dd", null, this.fmt.number(d))), i = `${this.fmt.number(t.allocated)} of ${this.fmt.number(t.total)} seats used`;
    this.fill(
      "seats",
      r("p", { class: "amount", "data-seats-summary": "" }, i),
      this.bar("Seats used", t.total > 0 ? t.allocated / t.total : 0, i, "NORMAL"),
      r("dl", { class: "metrics" }, a("Total seats", t.total, "total"), a("Allocated", t.allocated, "allocated"), a("Available", t.available, "available")),
      t.byType.length > 0 ? r(
        "ul",
        { class: "seat-types" },
        t.byType.map(
          (o) => r(
            "li",
            null,
            `${T(ce, o.seatType)} seats: ${this.fmt.number(o.allocated)} allocated`,
            o.cap === null ? ", no cap on this plan" : ` of a cap of ${this.fmt.number(o.cap)}`
          )
        )
      ) : null,
      e.viewerCan.manageSeats ? this.changeSeatsForm(t.total) : null,
      n.length > 0 ? [r("h3", null, "Per-seat quotas"), r("div", { class: "cards" }, n.map((o) => this.meterCard(o)))] : null
    );
  }
  changeSeatsForm(e) {
    const t = `${this.uid}-seats-total`, n = r("p", { class: "form-status", role: "status" }), a = r("input", { id: t, type: "number", min: 1, step: 1, value: e, inputmode: "numeric" });
    return r(
      "form",
      { class: "inline-form", onsubmit: async (o) => {
        o.preventDefault();
        const d = this.client, u = this.getAttribute("organization");
        if (!(!d || !u)) {
          n.textContent = "Changing seats…";
          try {
            const l = await d.request(
              J,
              { org: u, total: Number(a.value) },
              "ChangeSeats"
            ), c = l.data?.changeSeats?.userErrors[0]?.message ?? l.errors[0]?.message;
            n.textContent = c ?? "Seats changed.", c || this.load(!0);
          } catch (l) {
            n.textContent = String(l instanceof Error ? l.message : l);
          }
        }
      } },
      r("label", { for: t }, "Paid seats"),
      a,
      r("button", { type: "submit" }, "Change seats"),
      n
    );
  }
  // ----- meters -------------------------------------------------------------------
  bar(e, t, n, a) {
    return r(
      "div",
      {
        class: `bar level-${a.toLowerCase()}`,
        role: "progressbar",
        "aria-label": e,
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        "aria-valuenow": Math.round(Math.min(1, Math.max(0, t)) * 100),
        "aria-valuetext": n
      },
      r("span", { class: "fill", style: `width: ${Math.min(1, Math.max(0, t)) * 100}%` })
    );
  }
  meterCard(e) {
    const t = e.unlimited ? e.used === null ? "Unlimited" : `${this.fmt.quantity(e.used, e.unitLabel)} · Unlimited` : e.used !== null && e.limit !== null ? this.fmt.usedOf(e.used, e.limit, e.unitLabel) : `${this.fmt.percent(e.percent)} used`, n = e.unlimited ? "No cap on this plan" : `${T(oe, e.level)} · ${this.fmt.percent(e.percent)}`;
    return r(
      "article",
      { class: `meter level-${e.level.toLowerCase()}`, "data-meter": e.key, "data-level": e.level },
      r(
        "div",
        { class: "meter-head" },
        r("h4", null, e.label),
        r("span", { class: "badge", "data-enforcement": e.enforcement }, e.unlimited ? "Unlimited" : T(Re, e.enforcement))
      ),
      r("p", { class: "amount", "data-amount": "" }, t),
      e.unlimited ? null : this.bar(e.label, e.progress ?? 0, t, e.level),
      r(
        "p",
        { class: "meta" },
        r("span", { class: `level-text level-${e.level.toLowerCase()}` }, n),
        e.remaining !== null ? ` · ${this.fmt.quantity(e.remaining, e.unitLabel)} left` : "",
        e.resets === "NEVER" ? " · Cumulative" : e.resetsAt ? ` · Resets ${this.fmt.date(e.resetsAt)}` : "",
        e.blocked ? r("strong", { class: "blocked" }, " · Blocked: the next unit is denied") : null
      ),
      this.sparkline(e)
    );
  }
  sparkline(e) {
    if (e.trend.length < 2) return null;
    const t = e.trend.map((d) => Number(d.value)), n = Math.max(...t, 1), a = 100 / (t.length - 1), i = t.map((d, u) => `${(u * a).toFixed(1)},${(22 - d / n * 20).toFixed(1)}`).join(" "), o = `${e.label}, last ${t.length} cycles: ${e.trend.map((d) => `${this.fmt.date(d.start)} ${this.fmt.quantity(d.value, e.unitLabel)}`).join("; ")}`;
    return G(
      "svg",
      { class: "sparkline", viewBox: "0 0 100 24", preserveAspectRatio: "none", role: "img", "aria-label": o },
      G("polyline", { points: i, fill: "none", "stroke-width": 1.5, "vector-effect": "non-scaling-stroke" })
    );
  }
  renderMeters(e) {
    const t = e.meters.filter((a) => a.category !== "QUOTA");
    if (t.length === 0) {
      this.fill("meters", r("p", { class: "empty" }, "No meters are limited or used this cycle."));
      return;
    }
    const n = /* @__PURE__ */ new Map();
    for (const a of t) n.set(a.category, [...n.get(a.category) ?? [], a]);
    this.fill(
      "meters",
      [...n].map(([a, i]) => [
        r("h3", null, T(De, a)),
        r("div", { class: "cards" }, i.map((o) => this.meterCard(o)))
      ])
    );
  }
  // ----- AI budget ----------------------------------------------------------------
  renderAi(e) {
    const t = e.aiBudget;
    if (t === null) {
      this.hide("ai");
      return;
    }
    const n = t.spentUsd !== null && this.showDollars, a = n && t.limitUsd !== null ? `${this.fmt.money(t.spentUsd)} of ${this.fmt.money(t.limitUsd)} used` : n ? `${this.fmt.money(t.spentUsd)} used` : t.percentUsed === null ? "No monthly AI limit" : `${this.fmt.percent(t.percentUsed)} of the monthly AI budget used`, i = t.spentUsd !== null ? r(
      "button",
      {
        type: "button",
        class: "toggle",
        "aria-pressed": String(this.showDollars),
        "data-action": "show-dollars",
        onclick: () => {
          this.showDollars = !this.showDollars, this.renderAi(e);
        }
      },
      "Show $"
    ) : null;
    this.fill(
      "ai",
      r("div", { class: "panel-tools" }, i),
      r("p", { class: "amount", "data-ai-summary": "" }, a),
      t.percentUsed === null ? null : (
        // AiBudget has no level: the ai_spend_usd meter's (the budget's own meter).
        this.bar("AI budget used", t.percentUsed / 100, a, e.meters.find((o) => o.key === "ai_spend_usd")?.level ?? "NORMAL")
      ),
      r("p", { class: "muted" }, t.percentUsed !== null && n ? `${this.fmt.percent(t.percentUsed)} used · ` : "", `Resets ${this.fmt.date(t.resetsAt)}`),
      t.categories.length > 0 ? this.table(
        "AI usage by category",
        ["Category", "Tier", "Share", ...n ? ["Spent"] : []],
        t.categories.map((o) => [
          T(Oe, o.category),
          o.tierLabel === null ? "Unpriced" : T(Pe, o.tierLabel),
          this.fmt.percent(o.percent),
          ...n ? [this.fmt.money(o.spentUsd)] : []
        ]),
        "ai-categories"
      ) : r("p", { class: "empty" }, "No AI usage this cycle yet."),
      t.creditBalance !== null && Number(t.creditBalance) > 0 ? r("p", null, `Credit balance: ${this.fmt.number(t.creditBalance)} credits`) : null
    );
  }
  // ----- your usage ---------------------------------------------------------------
  renderMine(e) {
    const t = e.myUsage;
    if (t === null || t.meters.length === 0) {
      this.hide("mine");
      return;
    }
    this.fill(
      "mine",
      r(
        "div",
        { class: "cards" },
        t.meters.map((n) => {
          const a = n.limit === null ? `${this.fmt.number(n.used)} used` : `${this.fmt.number(n.used)} of ${this.fmt.number(n.limit)} used`;
          return r(
            "article",
            { class: `meter level-${n.level.toLowerCase()}`, "data-my-meter": n.key },
            r("div", { class: "meter-head" }, r("h3", null, n.label), r("span", { class: "badge" }, n.sharesOrgPool ? "Organization pool" : "Your allocation")),
            r("p", { class: "amount" }, a),
            // PersonalMeter has no percent: the bar is used ÷ limit, for display only.
            n.limit === null ? null : this.bar(`Your ${n.label}`, Number(n.used) / Math.max(Number(n.limit), Number.MIN_VALUE), a, n.level),
            r("p", { class: "meta" }, r("span", { class: `level-text level-${n.level.toLowerCase()}` }, T(oe, n.level)), n.caption ? ` · ${n.caption}` : "")
          );
        })
      )
    );
  }
  // ----- operations ---------------------------------------------------------------
  renderOperations(e) {
    if (e.plan === null) {
      this.hide("operations");
      return;
    }
    const t = e.usageByOperation;
    if (t.length === 0) {
      this.fill(
        "operations",
        r(
          "div",
          { class: "empty dashed" },
          r("p", null, r("strong", null, "No usage this cycle yet")),
          r("p", { class: "muted" }, "Activity appears here once calls, messages or AI actions run.")
        )
      );
      return;
    }
    this.fill(
      "operations",
      this.table(
        "Credits by operation this cycle",
        ["Operation", "Usage", "Free allowance", "Credits", "Share"],
        t.map((n) => [
          n.label,
          `${this.fmt.number(n.displayUnits)} ${n.unitLabel}`,
          n.freeAllowanceHint ?? (n.freeAllowance === null ? "Pay per use" : Number(n.freeAllowance) === 0 ? "Not included" : "—"),
          this.fmt.number(n.creditsSpent),
          this.fmt.percent(n.sharePercent)
        ]),
        "operations"
      )
    );
  }
  // ----- daily allowance ----------------------------------------------------------
  renderAllowance(e) {
    const t = e.dailyAllowance;
    if (t === null) {
      this.hide("allowance");
      return;
    }
    const n = t.snapshot;
    this.fill(
      "allowance",
      r("p", { class: "muted" }, "Worker-synced usage for your current 24-hour allowance window."),
      t.message ? r("p", { class: "notice", "data-allowance-message": "" }, t.message) : null,
      n ? [
        r(
          "p",
          { class: "badges" },
          r("span", { class: `badge status-${n.status.toLowerCase()}` }, T(Le, n.status)),
          " ",
          r("span", { class: "badge" }, T(Me, n.coverage))
        ),
        n.usagePercent === null ? null : [
          r("p", { class: "amount" }, `${this.fmt.percent(n.usagePercent)} of daily credits used`),
          this.bar("Daily credits used", n.usagePercent / 100, `${this.fmt.percent(n.usagePercent)}`, n.status === "OVER_LIMIT" ? "EXCEEDED" : "NORMAL")
        ],
        r(
          "dl",
          { class: "metrics" },
          r("div", { class: "metric" }, r("dt", null, "Window"), r("dd", null, `${this.fmt.dateTime(n.windowStart)} – ${this.fmt.dateTime(n.windowEnd)}`)),
          r("div", { class: "metric" }, r("dt", null, "Last synced"), r("dd", null, this.fmt.dateTime(n.lastSyncedAt)))
        ),
        n.topDefinitions.length > 0 ? this.table(
          "Most expensive Data Lake definitions (48 h, relative cost)",
          ["Definition", "Relative cost"],
          n.topDefinitions.map((a) => [a.name ?? a.definitionId, this.fmt.percent(a.relativeCostPercent)]),
          "definitions"
        ) : null
      ] : null
    );
  }
  // ----- tables -------------------------------------------------------------------
  table(e, t, n, a) {
    return r(
      "table",
      { "data-table": a },
      r("caption", null, e),
      r("thead", null, r("tr", null, t.map((i) => r("th", { scope: "col" }, i)))),
      r(
        "tbody",
        null,
        n.map((i) => r("tr", null, i.map((o, d) => r("td", { "data-label": t[d] }, o))))
      )
    );
  }
  // ----- chart and top tables (UsageChart) ---------------------------------------
  async loadChart(e, t = null) {
    const n = this.client, a = this.getAttribute("organization"), i = this.generation;
    if (n === null || !a) return;
    const o = this.pageSize, d = { org: a, range: this.range, first: o };
    t === "workspaces" && this.top && (d.after = this.top.cursor), t === "users" && this.top && (d.first = this.top.users.length + o), t === "groups" && this.top && (d.first = this.top.groups.length + o), t === null && !e && this.loading("chart");
    let u;
    try {
      u = await n.request(Ie, d);
    } catch (m) {
      if (i !== this.generation || e) return;
      const E = m instanceof Error ? m.message : String(m);
      this.failed(t === null ? "chart" : "top", E, () => {
        this.loadChart(!1, t);
      });
      return;
    }
    if (i !== this.generation) return;
    const l = u.data?.organization ?? null, f = ue(u.errors);
    if (l === null) {
      if (e) return;
      const m = u.errors[0]?.message ?? "No answer.";
      this.failed("chart", m, () => {
        this.loadChart(!1);
      }), this.failed("top", m, () => {
        this.loadChart(!1);
      });
      return;
    }
    if (t === null) {
      const m = f.get("chart");
      m ? this.failed("chart", m, () => {
        this.loadChart(!1);
      }) : this.renderChart(l);
    }
    const c = f.get("top");
    if (c) {
      this.failed("top", c, () => {
        this.loadChart(!1);
      });
      return;
    }
    this.mergeTop(l, t), this.renderTop();
  }
  mergeTop(e, t) {
    const n = (d) => d?.edges.map((u) => u.node) ?? [];
    if (e.topWorkspaces === null && e.topUsers === null && e.topWorkspaceGroups === null) {
      this.top = null;
      return;
    }
    const a = e.usageSeries?.unit ?? "CREDITS", i = {
      workspaces: n(e.topWorkspaces),
      workspacesTotal: e.topWorkspaces?.totalCount ?? 0,
      cursor: e.topWorkspaces?.pageInfo.endCursor ?? null,
      more: e.topWorkspaces?.pageInfo.hasNextPage ?? !1,
      groups: n(e.topWorkspaceGroups),
      groupsTotal: e.topWorkspaceGroups?.totalCount ?? 0,
      users: n(e.topUsers),
      usersTotal: e.topUsers?.totalCount ?? 0,
      unit: a
    }, o = this.top;
    if (o === null || t === null) {
      if (o !== null && t === null && (o.users.length > i.users.length || o.workspaces.length > i.workspaces.length || o.groups.length > i.groups.length)) return;
      this.top = i;
    } else t === "workspaces" ? (o.workspaces = [...o.workspaces, ...i.workspaces], o.cursor = i.cursor, o.more = i.more, o.workspacesTotal = i.workspacesTotal) : t === "users" ? (o.users = i.users, o.usersTotal = i.usersTotal) : (o.groups = i.groups, o.groupsTotal = i.groupsTotal);
  }
  renderChart(e) {
    const t = e.usageSeries, n = r(
      "div",
      { class: "range", role: "group", "aria-label": "Chart range" },
      ze.map(
        (c) => r(
          "button",
          {
            type: "button",
            "aria-pressed": String(c.value === this.range),
            title: c.long,
            "data-range": c.value,
            onclick: () => {
              this.range !== c.value && (this.range = c.value, this.loadChart(!1));
            }
          },
          c.label
        )
      )
    );
    if (t === null) {
      this.fill("chart", n, r("p", { class: "empty" }, "The usage chart shows dollars here, which your role does not see."));
      return;
    }
    const a = t.unit === "USD" ? "Spend (USD)" : "Credits", i = t.points, o = Math.max(...i.map((c) => Number(c.total)), 0), d = 100 / Math.max(i.length, 1), u = G("svg", { class: "chart", viewBox: "0 0 100 50", preserveAspectRatio: "none", "aria-hidden": "true" });
    i.forEach((c, m) => {
      let E = 50;
      for (const L of ["web", "cli", "api"]) {
        const w = o > 0 ? Number(c[L]) / o * 48 : 0;
        E -= w, u.appendChild(G("rect", { class: `source-${L}`, x: (m * d + d * 0.15).toFixed(2), y: E.toFixed(2), width: (d * 0.7).toFixed(2), height: w.toFixed(2) }));
      }
    });
    const l = (c) => t.unit === "USD" ? this.fmt.money(c) : this.fmt.number(c), f = i.every((c) => Number(c.total) === 0);
    this.fill(
      "chart",
      n,
      f ? r("p", { class: "notice" }, `Nothing spent in this range: ${a.toLowerCase()} by source appear here as they are used.`) : null,
      r(
        "figure",
        { "data-granularity": t.granularity, "data-points": i.length },
        u,
        r(
          "figcaption",
          null,
          r("ul", { class: "legend" }, ["web", "cli", "api"].map((c) => r("li", null, r("span", { class: `swatch source-${c}`, "aria-hidden": "true" }), c === "web" ? "Web" : c.toUpperCase()))),
          r("p", { class: "muted" }, `${a}, ${T(de, t.granularity)} — ${i.length} buckets`)
        )
      ),
      r(
        "details",
        null,
        r("summary", null, "Chart data"),
        this.table(
          `${a} by source, ${T(de, t.granularity)}`,
          ["Period", "Web", "CLI", "API", "Total"],
          i.map((c) => [this.fmt.bucket(c.start, t.granularity), l(c.web), l(c.cli), l(c.api), l(c.total)]),
          "chart"
        )
      )
    );
  }
  renderTop() {
    const e = this.top;
    if (e === null) {
      this.hide("top");
      return;
    }
    const t = (a) => e.unit === "USD" ? this.fmt.money(a) : this.fmt.number(a), n = (a, i, o, d, u) => r(
      "div",
      { class: "top-table", "data-top": a },
      o.length === 0 ? [r("h3", null, i), r("p", { class: "empty" }, "Nothing ranked this cycle yet.")] : [
        this.table(
          `${i} (${this.fmt.number(o.length)} of ${this.fmt.number(d)})`,
          ["Name", e.unit === "USD" ? "Spend" : "Credits", "Requests", "Share"],
          o.map((l) => [l.name, t(l.amount), this.fmt.number(l.requests), this.fmt.percent(l.sharePercent)]),
          `top-${a}`
        ),
        u ? r("button", { type: "button", class: "more", "data-more": a, onclick: () => {
          this.loadChart(!1, a);
        } }, `Show more ${i.toLowerCase()}`) : null
      ]
    );
    this.fill(
      "top",
      n("workspaces", "Top workspaces", e.workspaces, e.workspacesTotal, e.more),
      n("groups", "Top workspace groups", e.groups, e.groupsTotal, e.groups.length < e.groupsTotal),
      n("users", "Top users", e.users, e.usersTotal, e.users.length < e.usersTotal)
    );
  }
  // ----- member directory (MemberDirectory, seat mutations) ----------------------
  renderDirectoryFromPage(e) {
    const t = e.members;
    if (t === null) {
      this.hide("directory"), this.directory = null;
      return;
    }
    this.directory = {
      rows: t.edges.map((n) => n.node),
      total: t.totalCount,
      cursor: t.pageInfo.endCursor,
      more: t.pageInfo.hasNextPage,
      filters: { org: e.id, first: 20 }
    }, this.renderDirectory();
  }
  async searchDirectory(e, t) {
    const n = this.client, a = this.generation;
    if (n === null) return;
    this.loading("directory");
    let i;
    try {
      i = await n.request(Ce, e);
    } catch (u) {
      if (a !== this.generation) return;
      this.failed("directory", u instanceof Error ? u.message : String(u), () => {
        this.searchDirectory(e, t);
      });
      return;
    }
    if (a !== this.generation) return;
    const o = i.data?.organization?.members;
    if (!o) {
      this.failed("directory", i.errors[0]?.message ?? "No answer.", () => {
        this.searchDirectory(e, t);
      });
      return;
    }
    const d = o.edges.map((u) => u.node);
    this.directory = {
      rows: t && this.directory ? [...this.directory.rows, ...d] : d,
      total: o.totalCount,
      cursor: o.pageInfo.endCursor,
      more: o.pageInfo.hasNextPage,
      filters: { ...e, after: void 0 }
    }, this.renderDirectory(), this.announcer.textContent = `${this.directory.rows.length} of ${o.totalCount} members shown`;
  }
  renderDirectory() {
    const e = this.directory, t = this.org;
    if (e === null || t === null) return;
    const n = (w) => `${this.uid}-dir-${w}`, a = e.filters, i = r("input", { id: n("search"), type: "search", value: a.search ?? "", autocomplete: "off" }), o = r("input", { id: n("team"), type: "text", value: a.team ?? "", autocomplete: "off" }), d = (w, F, D) => r("option", { value: w, selected: (D ?? "") === w }, F), u = r("select", { id: n("role") }, d("", "Any role", a.role), Object.entries(le).map(([w, F]) => d(w, F, a.role))), l = r("select", { id: n("seat") }, d("", "Any seat status", a.seatStatus), d("ALLOCATED", "Allocated", a.seatStatus), d("NO_SEAT", "No seat", a.seatStatus)), f = r(
      "form",
      {
        class: "filters",
        role: "search",
        "aria-label": "Find members",
        onsubmit: (w) => {
          w.preventDefault(), this.searchDirectory(
            {
              org: t.id,
              first: 20,
              search: i.value.trim() || null,
              team: o.value.trim() || null,
              role: u.value || null,
              seatStatus: l.value || null
            },
            !1
          );
        }
      },
      r("div", { class: "field" }, r("label", { for: n("search") }, "Name or email"), i),
      r("div", { class: "field" }, r("label", { for: n("role") }, "Role"), u),
      r("div", { class: "field" }, r("label", { for: n("team") }, "Team"), o),
      r("div", { class: "field" }, r("label", { for: n("seat") }, "Seat status"), l),
      r("button", { type: "submit" }, "Search")
    ), c = r("p", { class: "form-status", role: "status", "data-seat-status": "" }), m = t.viewerCan.manageSeats, E = ["Name", "Email", "Role", "Teams", "Seat", ...m ? ["Seat action"] : []], L = e.rows.map((w) => [
      w.name,
      w.email,
      T(le, w.role),
      w.teams.join(", ") || "—",
      w.seatStatus === "ALLOCATED" ? `Allocated (${T(ce, w.seatType)})` : "No seat",
      ...m ? [this.seatAction(w, c)] : []
    ]);
    this.fill(
      "directory",
      f,
      e.rows.length === 0 ? r("p", { class: "empty" }, "No member matches these filters.") : this.table(`Members (${this.fmt.number(e.rows.length)} of ${this.fmt.number(e.total)})`, E, L, "members"),
      c,
      e.more ? r(
        "button",
        { type: "button", class: "more", "data-more": "members", onclick: () => {
          this.searchDirectory({ ...e.filters, after: e.cursor }, !0);
        } },
        "Show more members"
      ) : null
    );
  }
  seatAction(e, t) {
    const n = async (o, d) => {
      const u = this.client, l = this.org;
      if (!(!u || !l)) {
        t.textContent = `Updating ${e.name}'s seat…`;
        try {
          const f = o === "AllocateSeat" ? await u.request(J, { org: l.id, user: e.userId, seatType: d }, o) : await u.request(J, { org: l.id, user: e.userId }, o), c = "allocateSeat" in (f.data ?? {}) ? f.data.allocateSeat : f.data?.deallocateSeat, m = c?.userErrors[0]?.message ?? f.errors[0]?.message;
          if (m || !c?.member) {
            t.textContent = m ?? "The seat did not change.";
            return;
          }
          Object.assign(e, c.member), this.renderDirectory();
          const E = `${e.name}: ${e.seatStatus === "ALLOCATED" ? "seat allocated" : "seat removed"}.`;
          this.announcer.textContent = E, this.panel("directory").body.querySelector("[data-seat-status]").textContent = E, c.seats && l.seats && (Object.assign(l.seats, c.seats), this.renderSeats(l)), this.load(!0);
        } catch (f) {
          t.textContent = f instanceof Error ? f.message : String(f);
        }
      }
    };
    if (e.seatStatus === "ALLOCATED")
      return r("button", { type: "button", "data-seat-action": e.userId, "aria-label": `Remove seat of ${e.name}`, onclick: () => {
        n("DeallocateSeat", null);
      } }, "Remove seat");
    const a = `${this.uid}-seat-${e.userId}`, i = r("select", { id: a, "aria-label": `Seat type for ${e.name}` }, r("option", { value: "POWER" }, "Power"), r("option", { value: "COLLABORATOR" }, "Collaborator"));
    return r(
      "span",
      { class: "seat-action" },
      i,
      r("button", { type: "button", "data-seat-action": e.userId, "aria-label": `Allocate seat to ${e.name}`, onclick: () => {
        n("AllocateSeat", i.value);
      } }, "Allocate seat")
    );
  }
}
function ue(s) {
  const e = /* @__PURE__ */ new Map();
  for (const t of s) {
    const n = t.path?.[1], a = typeof n == "string" ? qe[n] : void 0;
    a && !e.has(a) && e.set(a, t.message);
  }
  return e;
}
customElements.get("usage-page") || customElements.define("usage-page", _e);
export {
  _e as UsagePageElement
};
