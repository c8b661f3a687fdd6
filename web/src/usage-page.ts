// <usage-page organization="org_…"> — the reference web Usage page as a custom element.
//
// The host supplies the token: `element.token = "…"` (preferred: not visible in the
// DOM) or the `token` attribute. Optional attributes: `endpoint` (the gateway's
// /graphql; default: the origin this script was loaded from), `locale` (default: the
// document's lang, else the browser's), `page-size` (rows per top-table page, 5).
//
// One UsagePage query paints every panel; UsageLive moves the bars; UsageChart serves
// the chart's range switch and the top tables' Show more; MemberDirectory and the
// seat mutations serve the directory. All documents are the contract's (operations/).
// The page shows what the gateway answers and redacts: a field that is null for this
// viewer is not shown, and nothing the gateway computes is recomputed here.
// Actions that lead elsewhere (Upgrade, Manage plan, Invite) are `usage-page-action`
// events for the host to route: {action: 'upgrade' | 'manage-plan' | 'referral', target}.
import { GatewayClient, RequestFailed, type GraphQLErrorShape, type Result } from './client';
import { MEMBER_DIRECTORY, SEATS, USAGE_CHART, USAGE_LIVE, USAGE_PAGE } from './documents';
import { h, replaceChildren, svg } from './dom';
import { Formats } from './format';
import type {
  AllocateSeatMutation,
  AllocateSeatMutationVariables,
  ChangeSeatsMutation,
  ChangeSeatsMutationVariables,
  DeallocateSeatMutation,
  DeallocateSeatMutationVariables,
  MemberDirectoryQuery,
  MemberDirectoryQueryVariables,
  Role,
  SeatStatus,
  SeatType,
  UsageChartQuery,
  UsageChartQueryVariables,
  UsageLiveSubscription,
  UsageLiveSubscriptionVariables,
  UsagePageQuery,
  UsagePageQueryVariables,
  UsageRange,
} from './generated/operations';
import {
  AI_FEATURE,
  ALLOWANCE_STATUS,
  CATEGORY_TITLES,
  COVERAGE,
  ENFORCEMENT,
  GRANULARITY,
  LEVEL,
  POOL,
  RANGES,
  ROLE,
  SEAT_TYPE,
  TIER,
  label,
} from './labels';
import styles from './usage-page.css?inline';

type Org = NonNullable<UsagePageQuery['organization']>;
type Meter = Org['meters'][number];
type MemberConnection = NonNullable<Org['members']>;
type MemberNode = MemberConnection['edges'][number]['node'];
type ChartOrg = NonNullable<UsageChartQuery['organization']>;
type TopRow = { id: string; name: string; amount: string; requests: number; sharePercent: number };

const PANELS = [
  ['plan', 'Plan'],
  ['credits', 'Credits this cycle'],
  ['seats', 'Seats'],
  ['ai', 'AI usage this cycle'],
  ['meters', 'Organization meters'],
  ['mine', 'Your usage'],
  ['operations', 'Usage by operation'],
  ['allowance', 'Daily credit usage'],
  ['chart', 'Usage over time'],
  ['top', 'Top consumers'],
  ['directory', 'Members and seats'],
] as const;
type PanelId = (typeof PANELS)[number][0];

/** Which panel an error under `organization.<field>` belongs to. */
const FIELD_PANEL: Record<string, PanelId> = {
  plan: 'plan',
  planActions: 'plan',
  cycle: 'credits',
  credits: 'credits',
  seats: 'seats',
  aiBudget: 'ai',
  meters: 'meters',
  myUsage: 'mine',
  usageByOperation: 'operations',
  dailyAllowance: 'allowance',
  members: 'directory',
  usageSeries: 'chart',
  topWorkspaces: 'top',
  topWorkspaceGroups: 'top',
  topUsers: 'top',
};

const SCRIPT_URL = import.meta.url;
let sequence = 0;

interface Panel {
  section: HTMLElement;
  body: HTMLElement;
}

export class UsagePageElement extends HTMLElement {
  static observedAttributes = ['organization', 'token', 'endpoint', 'locale', 'page-size'];

  private tokenValue: string | null = null;
  private client: GatewayClient | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly root: ShadowRoot;
  private readonly panels = new Map<PanelId, Panel>();
  private banners!: HTMLElement;
  private liveStatus!: HTMLElement;
  private heading!: HTMLElement;
  private announcer!: HTMLElement;
  private fmt = new Formats(undefined);
  private org: Org | null = null;
  private range: UsageRange = 'LAST_7_DAYS';
  private top: { workspaces: TopRow[]; workspacesTotal: number; cursor: string | null; more: boolean; groups: TopRow[]; groupsTotal: number; users: TopRow[]; usersTotal: number; unit: string } | null = null;
  private directory: { rows: MemberNode[]; total: number; cursor: string | null; more: boolean; filters: MemberDirectoryQueryVariables } | null = null;
  private refreshTimer: number | undefined;
  private generation = 0;
  private started = false;
  private showDollars = true;
  private readonly uid = `up${(sequence += 1)}`;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    // A host that set `token` before this module defined the element (an async or
    // late script) left an own property shadowing the accessor: take it over.
    if (Object.prototype.hasOwnProperty.call(this, 'token')) {
      const value = (this as { token: string | null }).token;
      delete (this as { token?: string | null }).token;
      this.token = value;
    }
  }

  /** The bearer token (a user's JWT or an API key); set by the host page. */
  get token(): string | null {
    return this.tokenValue ?? this.getAttribute('token');
  }

  set token(value: string | null) {
    this.tokenValue = value;
    if (this.started) this.restart();
  }

  connectedCallback(): void {
    this.started = true;
    this.restart();
  }

  disconnectedCallback(): void {
    this.started = false;
    this.stop();
  }

  attributeChangedCallback(): void {
    if (this.started) this.restart();
  }

  private get endpoint(): string {
    return this.getAttribute('endpoint') ?? new URL('/graphql', SCRIPT_URL).href;
  }

  private get pageSize(): number {
    const value = Number(this.getAttribute('page-size') ?? 5);
    return Number.isInteger(value) && value > 0 ? value : 5;
  }

  private stop(): void {
    this.generation += 1;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.client?.close();
    this.client = null;
    window.clearTimeout(this.refreshTimer);
  }

  private restart(): void {
    this.stop();
    const locale = this.getAttribute('locale') || document.documentElement.lang || undefined;
    this.fmt = new Formats(locale);
    this.org = null;
    this.top = null;
    this.directory = null;
    this.layout();
    const organization = this.getAttribute('organization');
    const token = this.token;
    if (!organization || !token) {
      for (const panel of this.panels.values()) panel.section.hidden = true;
      replaceChildren(this.banners, h('p', { class: 'notice' }, 'Choose an organization and supply a token to see usage.'));
      return;
    }
    this.client = new GatewayClient(this.endpoint, token);
    void this.load(false);
  }

  // ----- layout -------------------------------------------------------------------

  private layout(): void {
    this.panels.clear();
    const style = h('style');
    style.textContent = styles;
    this.heading = h('h1', { id: `${this.uid}-title` }, 'Usage');
    this.liveStatus = h('span', { class: 'live', role: 'status' }, '');
    this.announcer = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
    this.banners = h('div', { class: 'banners' });
    const grid = h('div', { class: 'grid' });
    for (const [id, title] of PANELS) {
      const headingId = `${this.uid}-${id}`;
      const body = h('div', { class: 'panel-body', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading…'));
      const section = h(
        'section',
        { class: `panel panel-${id}`, 'aria-labelledby': headingId, 'data-panel': id },
        h('h2', { id: headingId }, title),
        body,
      );
      this.panels.set(id, { section, body });
      grid.appendChild(section);
    }
    replaceChildren(
      this.root,
      style,
      h(
        'div',
        { class: 'page', role: 'region', 'aria-labelledby': `${this.uid}-title` },
        h('header', { class: 'page-header' }, this.heading, this.liveStatus),
        this.announcer,
        this.banners,
        grid,
      ),
    );
  }

  private panel(id: PanelId): Panel {
    return this.panels.get(id)!;
  }

  private fill(id: PanelId, ...children: Parameters<typeof replaceChildren>[1][]): void {
    const { body, section } = this.panel(id);
    section.hidden = false;
    body.removeAttribute('aria-busy');
    body.classList.remove('refreshing');
    replaceChildren(body, ...children);
  }

  private hide(id: PanelId): void {
    this.panel(id).section.hidden = true;
  }

  private loading(id: PanelId): void {
    const { body } = this.panel(id);
    body.setAttribute('aria-busy', 'true');
    body.classList.add('refreshing');
  }

  private failed(id: PanelId, message: string, retry: () => void): void {
    this.fill(
      id,
      h(
        'div',
        { class: 'error', role: 'alert' },
        h('p', null, `This panel could not be loaded: ${message}`),
        h('button', { type: 'button', onclick: retry }, 'Retry'),
      ),
    );
  }

  // ----- the first paint (UsagePage) ----------------------------------------------

  private async load(quiet: boolean): Promise<void> {
    const client = this.client;
    const generation = this.generation;
    if (client === null) return;
    const organization = this.getAttribute('organization')!;
    let result: Result<UsagePageQuery>;
    try {
      result = await client.request<UsagePageQuery, UsagePageQueryVariables>(USAGE_PAGE, {
        org: organization,
        membersFirst: 20,
      });
    } catch (error) {
      if (generation !== this.generation || quiet) return;
      const message = error instanceof RequestFailed ? error.message : String(error);
      for (const [id] of PANELS) this.failed(id, message, () => this.restart());
      return;
    }
    if (generation !== this.generation) return;
    const org = result.data?.organization ?? null;
    if (org === null) {
      if (quiet) return;
      const message = result.errors[0]?.message ?? 'No such organization.';
      for (const [id] of PANELS) this.failed(id, message, () => this.restart());
      return;
    }
    const broken = panelErrors(result.errors);
    this.org = org;
    this.heading.textContent = `Usage — ${org.name}`;
    this.renderBanners(org);
    const render: [PanelId, () => void][] = [
      ['plan', () => this.renderPlan(org)],
      ['credits', () => this.renderCredits(org)],
      ['seats', () => this.renderSeats(org)],
      ['ai', () => this.renderAi(org)],
      ['meters', () => this.renderMeters(org)],
      ['mine', () => this.renderMine(org)],
      ['operations', () => this.renderOperations(org)],
      ['allowance', () => this.renderAllowance(org)],
    ];
    if (!quiet) render.push(['directory', () => this.renderDirectoryFromPage(org)]);
    for (const [id, draw] of render) {
      const error = broken.get(id);
      if (error) this.failed(id, error, () => void this.load(false));
      else draw();
    }
    if (!quiet) {
      void this.loadChart(false);
      this.subscribe(organization);
    }
  }

  private scheduleRefresh(): void {
    // The tick carries the meter and the credit summary; everything else on the page
    // (pools, projections, AI budget, your usage) comes back with one quiet UsagePage.
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => {
      void this.load(true);
      void this.loadChart(true);
    }, 1500);
  }

  // ----- live (UsageLive) ---------------------------------------------------------

  private subscribe(organization: string): void {
    const client = this.client;
    if (client === null) return;
    this.setLive('connecting');
    this.unsubscribe = client.subscribe<UsageLiveSubscription, UsageLiveSubscriptionVariables>(
      USAGE_LIVE,
      { org: organization },
      (result) => {
        const tick = result.data?.usageUpdated;
        if (tick) this.applyTick(tick);
      },
      (state, message) => this.setLive(state, message),
    );
  }

  private setLive(state: 'connecting' | 'live' | 'closed' | 'error', message?: string): void {
    const text = {
      connecting: 'Connecting live updates…',
      live: 'Live',
      closed: 'Live updates paused',
      error: `Live updates unavailable${message ? `: ${message}` : ''}`,
    }[state];
    this.liveStatus.textContent = text;
    this.liveStatus.dataset.state = state;
  }

  private applyTick(tick: UsageLiveSubscription['usageUpdated']): void {
    const org = this.org;
    if (org === null) return;
    const meter = org.meters.find((m) => m.key === tick.meter);
    if (meter) {
      meter.used = tick.used;
      meter.limit = tick.limit;
      meter.percent = tick.percent;
      meter.level = tick.level;
      // The tick has no `progress`: the bar shows `percent`, clamped to the bar.
      meter.progress = tick.percent === null ? null : Math.min(1, Math.max(0, tick.percent / 100));
      const card = this.panel('meters').body.querySelector(`[data-meter="${CSS.escape(meter.key)}"]`)
        ?? this.panel('seats').body.querySelector(`[data-meter="${CSS.escape(meter.key)}"]`);
      card?.replaceWith(this.meterCard(meter));
    }
    if (tick.credits && org.credits) {
      Object.assign(org.credits, tick.credits);
      this.renderCredits(org);
    }
    this.scheduleRefresh();
  }

  // ----- banners ------------------------------------------------------------------

  private renderBanners(org: Org): void {
    const banners: HTMLElement[] = [];
    if (org.aiAccessPaused) {
      banners.push(
        h(
          'div',
          { class: 'banner banner-danger', role: 'alert', 'data-banner': 'ai-paused' },
          h('strong', null, 'AI access is paused. '),
          'A payment is past due and its retries are exhausted, so every AI request is denied. ',
          org.viewerCan.managePlan
            ? 'Update the payment method in Billing settings to restore access.'
            : 'Ask an admin to update the payment method in Billing settings.',
        ),
      );
    }
    const credits = org.credits;
    if (credits?.onTrackToRunOut) {
      banners.push(
        h(
          'div',
          { class: 'banner banner-warning', role: 'status', 'data-banner': 'run-out' },
          h('strong', null, 'On track to run out. '),
          credits.runOutInDays === null
            ? 'At the current rate the credits run out before this cycle ends. '
            : `At the current rate the credits run out in ${this.fmt.number(credits.runOutInDays)} days, before this cycle ends. `,
          this.upgradeButton(org),
        ),
      );
    }
    replaceChildren(this.banners, ...banners);
  }

  private action(action: string, target: string | null = null): void {
    this.dispatchEvent(
      new CustomEvent('usage-page-action', { detail: { action, target }, bubbles: true, composed: true }),
    );
  }

  private upgradeButton(org: Org): HTMLElement | null {
    const target = org.planActions.upgrade;
    if (target === null) return null;
    return h(
      'button',
      { type: 'button', class: 'primary', 'data-action': 'upgrade', onclick: () => this.action('upgrade', target) },
      target === 'SIGNUP_WIZARD' ? 'Upgrade — choose a plan' : 'Upgrade in Billing settings',
    );
  }

  // ----- plan ---------------------------------------------------------------------

  private renderPlan(org: Org): void {
    const plan = org.plan;
    if (plan === null) {
      this.fill('plan', h('p', { class: 'empty' }, 'No subscription: this organization has no plan yet.'));
      return;
    }
    const price = (money: { amount: string; currency: string } | null, per: string) =>
      money ? h('li', null, h('span', { class: 'value' }, this.fmt.money(money.amount, money.currency)), ` per ${per}`) : null;
    this.fill(
      'plan',
      h('p', { class: 'plan-name' }, plan.name, ' ', h('span', { class: 'badge' }, plan.tier)),
      h('ul', { class: 'prices' }, price(plan.priceMonthly, 'month'), price(plan.priceAnnual, 'year')),
      org.cycle
        ? h('p', { class: 'muted' }, `Cycle ${this.fmt.date(org.cycle.start)} – ${this.fmt.date(org.cycle.end)}`)
        : null,
      h(
        'div',
        { class: 'actions' },
        this.upgradeButton(org),
        org.planActions.manage
          ? h('button', { type: 'button', 'data-action': 'manage-plan', onclick: () => this.action('manage-plan') }, 'Manage plan')
          : null,
      ),
    );
  }

  // ----- credits ------------------------------------------------------------------

  private credit(value: string | null | undefined, unit: string): string {
    return unit === 'USD' ? this.fmt.money(value) : `${this.fmt.number(value)} credits`;
  }

  private renderCredits(org: Org): void {
    const credits = org.credits;
    if (credits === null) {
      this.fill('credits', h('p', { class: 'empty' }, 'No credits: this organization has no subscription.'));
      return;
    }
    const cycle = org.cycle;
    const unit = credits.unit;
    const metric = (name: string, value: string, key: string) =>
      h('div', { class: 'metric', 'data-metric': key }, h('dt', null, name), h('dd', null, value));
    if (credits.granted === '0' && credits.spent === '0' && credits.remaining === '0') {
      // The plan grants none and nothing was bought or given: usage is on the meters.
      this.fill(
        'credits',
        h('p', { class: 'empty', 'data-credits-summary': '' }, 'This plan grants no credits: its usage is counted on the meters.'),
        h(
          'dl',
          { class: 'metrics' },
          metric('Days remaining', cycle ? this.fmt.number(cycle.daysRemaining) : '—', 'days-remaining'),
          metric('Days elapsed', cycle ? this.fmt.number(cycle.daysElapsed) : '—', 'days-elapsed'),
        ),
      );
      return;
    }
    const grantedTotal = credits.pools.reduce((sum, pool) => sum + Number(pool.granted), 0);
    // The bar's segments: each pool's share of what the pools were granted (geometry only).
    const segments = credits.pools.map((pool, index) =>
      h('span', {
        class: `segment pool-${pool.kind.toLowerCase()}`,
        style: `width: ${grantedTotal > 0 ? (Number(pool.spent) / grantedTotal) * 100 : 0}%`,
        'data-pool': `${pool.kind}-${index}`,
      }),
    );
    const summary =
      credits.spent !== null && credits.granted !== null
        ? `${this.credit(credits.spent, unit)} of ${this.credit(credits.granted, unit)} used`
        : `${this.fmt.percent(credits.progress * 100)} used`;
    this.fill(
      'credits',
      h('p', { class: 'amount', 'data-credits-summary': '' }, summary),
      h(
        'div',
        {
          class: 'bar stacked',
          role: 'progressbar',
          'aria-label': 'Credits used this cycle',
          'aria-valuemin': 0,
          'aria-valuemax': 100,
          'aria-valuenow': Math.round(credits.progress * 100),
          'aria-valuetext': summary,
        },
        segments.length > 0 ? segments : h('span', { class: 'segment', style: `width: ${credits.progress * 100}%` }),
      ),
      credits.pools.length > 0
        ? h(
            'ul',
            { class: 'legend pools' },
            credits.pools.map((pool) =>
              h(
                'li',
                { 'data-pool-kind': pool.kind },
                h('span', { class: `swatch pool-${pool.kind.toLowerCase()}`, 'aria-hidden': 'true' }),
                `${label(POOL, pool.kind)}: ${this.credit(pool.spent, unit)} spent, ${this.credit(pool.remaining, unit)} left`,
                pool.expiresAt ? ` (expires ${this.fmt.date(pool.expiresAt)})` : '',
              ),
            ),
          )
        : null,
      h(
        'dl',
        { class: 'metrics' },
        metric('Days remaining', cycle ? this.fmt.number(cycle.daysRemaining) : '—', 'days-remaining'),
        metric('Days elapsed', cycle ? this.fmt.number(cycle.daysElapsed) : '—', 'days-elapsed'),
        metric('Avg per day', credits.avgPerDay === null ? '—' : this.credit(credits.avgPerDay, unit), 'avg-per-day'),
        metric(
          'Run out in',
          credits.runOutInDays === null ? 'Not projected' : `${this.fmt.number(credits.runOutInDays)} days`,
          'run-out',
        ),
      ),
      credits.remaining !== null ? h('p', { class: 'muted' }, `${this.credit(credits.remaining, unit)} remaining`) : null,
      credits.prompts.length > 0
        ? h(
            'div',
            { class: 'actions prompts' },
            credits.prompts.includes('UPGRADE') ? this.upgradeButton(org) : null,
            credits.prompts.includes('REFERRAL')
              ? h(
                  'button',
                  { type: 'button', 'data-action': 'referral', onclick: () => this.action('referral') },
                  'Invite a friend, earn bonus credits',
                )
              : null,
          )
        : null,
    );
  }

  // ----- seats and per-seat quotas -----------------------------------------------

  private renderSeats(org: Org): void {
    const seats = org.seats;
    const quotas = org.meters.filter((meter) => meter.category === 'QUOTA');
    if (seats === null) {
      this.fill('seats', h('p', { class: 'empty' }, 'No subscription: no seats.'));
      return;
    }
    const card = (name: string, value: number, key: string) =>
      h('div', { class: 'metric', 'data-seats': key }, h('dt', null, name), h('dd', null, this.fmt.number(value)));
    const summary = `${this.fmt.number(seats.allocated)} of ${this.fmt.number(seats.total)} seats used`;
    this.fill(
      'seats',
      h('p', { class: 'amount', 'data-seats-summary': '' }, summary),
      this.bar('Seats used', seats.total > 0 ? seats.allocated / seats.total : 0, summary, 'NORMAL'),
      h('dl', { class: 'metrics' }, card('Total seats', seats.total, 'total'), card('Allocated', seats.allocated, 'allocated'), card('Available', seats.available, 'available')),
      seats.byType.length > 0
        ? h(
            'ul',
            { class: 'seat-types' },
            seats.byType.map((type) =>
              h(
                'li',
                null,
                `${label(SEAT_TYPE, type.seatType)} seats: ${this.fmt.number(type.allocated)} allocated`,
                type.cap === null ? ', no cap on this plan' : ` of a cap of ${this.fmt.number(type.cap)}`,
              ),
            ),
          )
        : null,
      org.viewerCan.manageSeats ? this.changeSeatsForm(seats.total) : null,
      quotas.length > 0
        ? [h('h3', null, 'Per-seat quotas'), h('div', { class: 'cards' }, quotas.map((meter) => this.meterCard(meter)))]
        : null,
    );
  }

  private changeSeatsForm(total: number): HTMLElement {
    const inputId = `${this.uid}-seats-total`;
    const status = h('p', { class: 'form-status', role: 'status' });
    const input = h('input', { id: inputId, type: 'number', min: 1, step: 1, value: total, inputmode: 'numeric' }) as HTMLInputElement;
    const submit = async (event: Event) => {
      event.preventDefault();
      const client = this.client;
      const org = this.getAttribute('organization');
      if (!client || !org) return;
      status.textContent = 'Changing seats…';
      try {
        const result = await client.request<ChangeSeatsMutation, ChangeSeatsMutationVariables>(
          SEATS,
          { org, total: Number(input.value) },
          'ChangeSeats',
        );
        const payload = result.data?.changeSeats;
        const problem = payload?.userErrors[0]?.message ?? result.errors[0]?.message;
        status.textContent = problem ?? 'Seats changed.';
        if (!problem) void this.load(true);
      } catch (error) {
        status.textContent = String(error instanceof Error ? error.message : error);
      }
    };
    return h(
      'form',
      { class: 'inline-form', onsubmit: submit },
      h('label', { for: inputId }, 'Paid seats'),
      input,
      h('button', { type: 'submit' }, 'Change seats'),
      status,
    );
  }

  // ----- meters -------------------------------------------------------------------

  private bar(name: string, progress: number, text: string, level: string): HTMLElement {
    return h(
      'div',
      {
        class: `bar level-${level.toLowerCase()}`,
        role: 'progressbar',
        'aria-label': name,
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': Math.round(Math.min(1, Math.max(0, progress)) * 100),
        'aria-valuetext': text,
      },
      h('span', { class: 'fill', style: `width: ${Math.min(1, Math.max(0, progress)) * 100}%` }),
    );
  }

  private meterCard(meter: Meter): HTMLElement {
    const amount = meter.unlimited
      ? meter.used === null
        ? 'Unlimited'
        : `${this.fmt.quantity(meter.used, meter.unitLabel)} · Unlimited`
      : meter.used !== null && meter.limit !== null
        ? this.fmt.usedOf(meter.used, meter.limit, meter.unitLabel)
        : `${this.fmt.percent(meter.percent)} used`;
    const levelText = meter.unlimited ? 'No cap on this plan' : `${label(LEVEL, meter.level)} · ${this.fmt.percent(meter.percent)}`;
    return h(
      'article',
      { class: `meter level-${meter.level.toLowerCase()}`, 'data-meter': meter.key, 'data-level': meter.level },
      h(
        'div',
        { class: 'meter-head' },
        h('h4', null, meter.label),
        h('span', { class: 'badge', 'data-enforcement': meter.enforcement }, meter.unlimited ? 'Unlimited' : label(ENFORCEMENT, meter.enforcement)),
      ),
      h('p', { class: 'amount', 'data-amount': '' }, amount),
      meter.unlimited ? null : this.bar(meter.label, meter.progress ?? 0, amount, meter.level),
      h(
        'p',
        { class: 'meta' },
        h('span', { class: `level-text level-${meter.level.toLowerCase()}` }, levelText),
        meter.remaining !== null ? ` · ${this.fmt.quantity(meter.remaining, meter.unitLabel)} left` : '',
        meter.resets === 'NEVER' ? ' · Cumulative' : meter.resetsAt ? ` · Resets ${this.fmt.date(meter.resetsAt)}` : '',
        meter.blocked ? h('strong', { class: 'blocked' }, ' · Blocked: the next unit is denied') : null,
      ),
      this.sparkline(meter),
    );
  }

  private sparkline(meter: Meter): SVGElement | null {
    if (meter.trend.length < 2) return null;
    const values = meter.trend.map((point) => Number(point.value));
    const max = Math.max(...values, 1);
    const step = 100 / (values.length - 1);
    const points = values.map((value, i) => `${(i * step).toFixed(1)},${(22 - (value / max) * 20).toFixed(1)}`).join(' ');
    const title = `${meter.label}, last ${values.length} cycles: ${meter.trend
      .map((point) => `${this.fmt.date(point.start)} ${this.fmt.quantity(point.value, meter.unitLabel)}`)
      .join('; ')}`;
    return svg(
      'svg',
      { class: 'sparkline', viewBox: '0 0 100 24', preserveAspectRatio: 'none', role: 'img', 'aria-label': title },
      svg('polyline', { points, fill: 'none', 'stroke-width': 1.5, 'vector-effect': 'non-scaling-stroke' }),
    );
  }

  private renderMeters(org: Org): void {
    const meters = org.meters.filter((meter) => meter.category !== 'QUOTA');
    if (meters.length === 0) {
      this.fill('meters', h('p', { class: 'empty' }, 'No meters are limited or used this cycle.'));
      return;
    }
    const groups = new Map<string, Meter[]>();
    for (const meter of meters) groups.set(meter.category, [...(groups.get(meter.category) ?? []), meter]);
    this.fill(
      'meters',
      [...groups].map(([category, list]) => [
        h('h3', null, label(CATEGORY_TITLES, category)),
        h('div', { class: 'cards' }, list.map((meter) => this.meterCard(meter))),
      ]),
    );
  }

  // ----- AI budget ----------------------------------------------------------------

  private renderAi(org: Org): void {
    const ai = org.aiBudget;
    if (ai === null) {
      this.hide('ai');
      return;
    }
    const dollars = ai.spentUsd !== null && this.showDollars;
    const summary =
      dollars && ai.limitUsd !== null
        ? `${this.fmt.money(ai.spentUsd)} of ${this.fmt.money(ai.limitUsd)} used`
        : dollars
          ? `${this.fmt.money(ai.spentUsd)} used`
          : ai.percentUsed === null
            ? 'No monthly AI limit'
            : `${this.fmt.percent(ai.percentUsed)} of the monthly AI budget used`;
    const toggle =
      ai.spentUsd !== null
        ? h(
            'button',
            {
              type: 'button',
              class: 'toggle',
              'aria-pressed': String(this.showDollars),
              'data-action': 'show-dollars',
              onclick: () => {
                this.showDollars = !this.showDollars;
                this.renderAi(org);
              },
            },
            'Show $',
          )
        : null;
    this.fill(
      'ai',
      h('div', { class: 'panel-tools' }, toggle),
      h('p', { class: 'amount', 'data-ai-summary': '' }, summary),
      ai.percentUsed === null
        ? null
        : // AiBudget has no level: the ai_spend_usd meter's (the budget's own meter).
          this.bar('AI budget used', ai.percentUsed / 100, summary, org.meters.find((m) => m.key === 'ai_spend_usd')?.level ?? 'NORMAL'),
      h('p', { class: 'muted' }, ai.percentUsed !== null && dollars ? `${this.fmt.percent(ai.percentUsed)} used · ` : '', `Resets ${this.fmt.date(ai.resetsAt)}`),
      ai.categories.length > 0
        ? this.table(
            'AI usage by category',
            ['Category', 'Tier', 'Share', ...(dollars ? ['Spent'] : [])],
            ai.categories.map((row) => [
              label(AI_FEATURE, row.category),
              row.tierLabel === null ? 'Unpriced' : label(TIER, row.tierLabel),
              this.fmt.percent(row.percent),
              ...(dollars ? [this.fmt.money(row.spentUsd)] : []),
            ]),
            'ai-categories',
          )
        : h('p', { class: 'empty' }, 'No AI usage this cycle yet.'),
      ai.creditBalance !== null && Number(ai.creditBalance) > 0
        ? h('p', null, `Credit balance: ${this.fmt.number(ai.creditBalance)} credits`)
        : null,
    );
  }

  // ----- your usage ---------------------------------------------------------------

  private renderMine(org: Org): void {
    const mine = org.myUsage;
    if (mine === null || mine.meters.length === 0) {
      this.hide('mine');
      return;
    }
    this.fill(
      'mine',
      h(
        'div',
        { class: 'cards' },
        mine.meters.map((meter) => {
          const text =
            meter.limit === null
              ? `${this.fmt.number(meter.used)} used`
              : `${this.fmt.number(meter.used)} of ${this.fmt.number(meter.limit)} used`;
          return h(
            'article',
            { class: `meter level-${meter.level.toLowerCase()}`, 'data-my-meter': meter.key },
            h('div', { class: 'meter-head' }, h('h3', null, meter.label), h('span', { class: 'badge' }, meter.sharesOrgPool ? 'Organization pool' : 'Your allocation')),
            h('p', { class: 'amount' }, text),
            // PersonalMeter has no percent: the bar is used ÷ limit, for display only.
            meter.limit === null ? null : this.bar(`Your ${meter.label}`, Number(meter.used) / Math.max(Number(meter.limit), Number.MIN_VALUE), text, meter.level),
            h('p', { class: 'meta' }, h('span', { class: `level-text level-${meter.level.toLowerCase()}` }, label(LEVEL, meter.level)), meter.caption ? ` · ${meter.caption}` : ''),
          );
        }),
      ),
    );
  }

  // ----- operations ---------------------------------------------------------------

  private renderOperations(org: Org): void {
    if (org.plan === null) {
      this.hide('operations');
      return;
    }
    const rows = org.usageByOperation;
    if (rows.length === 0) {
      this.fill(
        'operations',
        h(
          'div',
          { class: 'empty dashed' },
          h('p', null, h('strong', null, 'No usage this cycle yet')),
          h('p', { class: 'muted' }, 'Activity appears here once calls, messages or AI actions run.'),
        ),
      );
      return;
    }
    this.fill(
      'operations',
      this.table(
        'Credits by operation this cycle',
        ['Operation', 'Usage', 'Free allowance', 'Credits', 'Share'],
        rows.map((row) => [
          row.label,
          `${this.fmt.number(row.displayUnits)} ${row.unitLabel}`,
          row.freeAllowanceHint ?? (row.freeAllowance === null ? 'Pay per use' : Number(row.freeAllowance) === 0 ? 'Not included' : '—'),
          this.fmt.number(row.creditsSpent),
          this.fmt.percent(row.sharePercent),
        ]),
        'operations',
      ),
    );
  }

  // ----- daily allowance ----------------------------------------------------------

  private renderAllowance(org: Org): void {
    const panel = org.dailyAllowance;
    if (panel === null) {
      // Redacted: without billing:read:all or the allowanceUiDetails flag.
      this.hide('allowance');
      return;
    }
    const snapshot = panel.snapshot;
    this.fill(
      'allowance',
      h('p', { class: 'muted' }, 'Worker-synced usage for your current 24-hour allowance window.'),
      panel.message ? h('p', { class: 'notice', 'data-allowance-message': '' }, panel.message) : null,
      snapshot
        ? [
            h(
              'p',
              { class: 'badges' },
              h('span', { class: `badge status-${snapshot.status.toLowerCase()}` }, label(ALLOWANCE_STATUS, snapshot.status)),
              ' ',
              h('span', { class: 'badge' }, label(COVERAGE, snapshot.coverage)),
            ),
            snapshot.usagePercent === null
              ? null
              : [
                  h('p', { class: 'amount' }, `${this.fmt.percent(snapshot.usagePercent)} of daily credits used`),
                  this.bar('Daily credits used', snapshot.usagePercent / 100, `${this.fmt.percent(snapshot.usagePercent)}`, snapshot.status === 'OVER_LIMIT' ? 'EXCEEDED' : 'NORMAL'),
                ],
            h(
              'dl',
              { class: 'metrics' },
              h('div', { class: 'metric' }, h('dt', null, 'Window'), h('dd', null, `${this.fmt.dateTime(snapshot.windowStart)} – ${this.fmt.dateTime(snapshot.windowEnd)}`)),
              h('div', { class: 'metric' }, h('dt', null, 'Last synced'), h('dd', null, this.fmt.dateTime(snapshot.lastSyncedAt))),
            ),
            snapshot.topDefinitions.length > 0
              ? this.table(
                  'Most expensive Data Lake definitions (48 h, relative cost)',
                  ['Definition', 'Relative cost'],
                  snapshot.topDefinitions.map((row) => [row.name ?? row.definitionId, this.fmt.percent(row.relativeCostPercent)]),
                  'definitions',
                )
              : null,
          ]
        : null,
    );
  }

  // ----- tables -------------------------------------------------------------------

  private table(caption: string, headers: string[], rows: (string | Node)[][], key: string): HTMLElement {
    return h(
      'table',
      { 'data-table': key },
      h('caption', null, caption),
      h('thead', null, h('tr', null, headers.map((header) => h('th', { scope: 'col' }, header)))),
      h(
        'tbody',
        null,
        rows.map((cells) => h('tr', null, cells.map((cell, i) => h('td', { 'data-label': headers[i] }, cell)))),
      ),
    );
  }

  // ----- chart and top tables (UsageChart) ---------------------------------------

  private async loadChart(quiet: boolean, page: 'workspaces' | 'users' | 'groups' | null = null): Promise<void> {
    const client = this.client;
    const organization = this.getAttribute('organization');
    const generation = this.generation;
    if (client === null || !organization) return;
    const size = this.pageSize;
    const variables: UsageChartQueryVariables = { org: organization, range: this.range, first: size };
    if (page === 'workspaces' && this.top) variables.after = this.top.cursor;
    if (page === 'users' && this.top) variables.first = this.top.users.length + size;
    if (page === 'groups' && this.top) variables.first = this.top.groups.length + size;
    if (page === null && !quiet) this.loading('chart');
    let result: Result<UsageChartQuery>;
    try {
      result = await client.request<UsageChartQuery, UsageChartQueryVariables>(USAGE_CHART, variables);
    } catch (error) {
      if (generation !== this.generation || quiet) return;
      const message = error instanceof Error ? error.message : String(error);
      this.failed(page === null ? 'chart' : 'top', message, () => void this.loadChart(false, page));
      return;
    }
    if (generation !== this.generation) return;
    const org = result.data?.organization ?? null;
    const broken = panelErrors(result.errors);
    if (org === null) {
      if (quiet) return;
      const message = result.errors[0]?.message ?? 'No answer.';
      this.failed('chart', message, () => void this.loadChart(false));
      this.failed('top', message, () => void this.loadChart(false));
      return;
    }
    if (page === null) {
      const chartError = broken.get('chart');
      if (chartError) this.failed('chart', chartError, () => void this.loadChart(false));
      else this.renderChart(org);
    }
    const topError = broken.get('top');
    if (topError) {
      this.failed('top', topError, () => void this.loadChart(false));
      return;
    }
    this.mergeTop(org, page);
    this.renderTop();
  }

  private mergeTop(org: ChartOrg, page: 'workspaces' | 'users' | 'groups' | null): void {
    const rows = (connection: { edges: { node: TopRow }[] } | null) => connection?.edges.map((edge) => edge.node) ?? [];
    if (org.topWorkspaces === null && org.topUsers === null && org.topWorkspaceGroups === null) {
      this.top = null; // redacted: without billing:read:all
      return;
    }
    const unit = org.usageSeries?.unit ?? 'CREDITS';
    const fresh = {
      workspaces: rows(org.topWorkspaces),
      workspacesTotal: org.topWorkspaces?.totalCount ?? 0,
      cursor: org.topWorkspaces?.pageInfo.endCursor ?? null,
      more: org.topWorkspaces?.pageInfo.hasNextPage ?? false,
      groups: rows(org.topWorkspaceGroups),
      groupsTotal: org.topWorkspaceGroups?.totalCount ?? 0,
      users: rows(org.topUsers),
      usersTotal: org.topUsers?.totalCount ?? 0,
      unit,
    };
    const old = this.top;
    if (old === null || page === null) {
      // A quiet refresh keeps the rows already shown by Show more.
      if (old !== null && page === null && (old.users.length > fresh.users.length || old.workspaces.length > fresh.workspaces.length || old.groups.length > fresh.groups.length)) return;
      this.top = fresh;
    } else if (page === 'workspaces') {
      old.workspaces = [...old.workspaces, ...fresh.workspaces];
      old.cursor = fresh.cursor;
      old.more = fresh.more;
      old.workspacesTotal = fresh.workspacesTotal;
    } else if (page === 'users') {
      old.users = fresh.users;
      old.usersTotal = fresh.usersTotal;
    } else {
      old.groups = fresh.groups;
      old.groupsTotal = fresh.groupsTotal;
    }
  }

  private renderChart(org: ChartOrg): void {
    const series = org.usageSeries;
    const switcher = h(
      'div',
      { class: 'range', role: 'group', 'aria-label': 'Chart range' },
      RANGES.map((range) =>
        h(
          'button',
          {
            type: 'button',
            'aria-pressed': String(range.value === this.range),
            title: range.long,
            'data-range': range.value,
            onclick: () => {
              if (this.range === range.value) return;
              this.range = range.value;
              void this.loadChart(false);
            },
          },
          range.label,
        ),
      ),
    );
    if (series === null) {
      // Dollars of a BYOM organization, without billing:read:dollars.
      this.fill('chart', switcher, h('p', { class: 'empty' }, 'The usage chart shows dollars here, which your role does not see.'));
      return;
    }
    const unitName = series.unit === 'USD' ? 'Spend (USD)' : 'Credits';
    const points = series.points;
    const max = Math.max(...points.map((point) => Number(point.total)), 0);
    const width = 100 / Math.max(points.length, 1);
    const bars = svg('svg', { class: 'chart', viewBox: '0 0 100 50', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
    points.forEach((point, i) => {
      let y = 50;
      for (const source of ['web', 'cli', 'api'] as const) {
        const height = max > 0 ? (Number(point[source]) / max) * 48 : 0;
        y -= height;
        bars.appendChild(svg('rect', { class: `source-${source}`, x: (i * width + width * 0.15).toFixed(2), y: y.toFixed(2), width: (width * 0.7).toFixed(2), height: height.toFixed(2) }));
      }
    });
    const amount = (value: string) => (series.unit === 'USD' ? this.fmt.money(value) : this.fmt.number(value));
    const nothing = points.every((point) => Number(point.total) === 0);
    this.fill(
      'chart',
      switcher,
      nothing ? h('p', { class: 'notice' }, `Nothing spent in this range: ${unitName.toLowerCase()} by source appear here as they are used.`) : null,
      h(
        'figure',
        { 'data-granularity': series.granularity, 'data-points': points.length },
        bars,
        h(
          'figcaption',
          null,
          h('ul', { class: 'legend' }, ['web', 'cli', 'api'].map((source) => h('li', null, h('span', { class: `swatch source-${source}`, 'aria-hidden': 'true' }), source === 'web' ? 'Web' : source.toUpperCase()))),
          h('p', { class: 'muted' }, `${unitName}, ${label(GRANULARITY, series.granularity)} — ${points.length} buckets`),
        ),
      ),
      h(
        'details',
        null,
        h('summary', null, 'Chart data'),
        this.table(
          `${unitName} by source, ${label(GRANULARITY, series.granularity)}`,
          ['Period', 'Web', 'CLI', 'API', 'Total'],
          points.map((point) => [this.fmt.bucket(point.start, series.granularity), amount(point.web), amount(point.cli), amount(point.api), amount(point.total)]),
          'chart',
        ),
      ),
    );
  }

  private renderTop(): void {
    const top = this.top;
    if (top === null) {
      this.hide('top');
      return;
    }
    const amount = (value: string) => (top.unit === 'USD' ? this.fmt.money(value) : this.fmt.number(value));
    const block = (key: 'workspaces' | 'groups' | 'users', title: string, rows: TopRow[], total: number, more: boolean) =>
      h(
        'div',
        { class: 'top-table', 'data-top': key },
        rows.length === 0
          ? [h('h3', null, title), h('p', { class: 'empty' }, 'Nothing ranked this cycle yet.')]
          : [
              this.table(
                `${title} (${this.fmt.number(rows.length)} of ${this.fmt.number(total)})`,
                ['Name', top.unit === 'USD' ? 'Spend' : 'Credits', 'Requests', 'Share'],
                rows.map((row) => [row.name, amount(row.amount), this.fmt.number(row.requests), this.fmt.percent(row.sharePercent)]),
                `top-${key}`,
              ),
              more
                ? h('button', { type: 'button', class: 'more', 'data-more': key, onclick: () => void this.loadChart(false, key) }, `Show more ${title.toLowerCase()}`)
                : null,
            ],
      );
    this.fill(
      'top',
      block('workspaces', 'Top workspaces', top.workspaces, top.workspacesTotal, top.more),
      block('groups', 'Top workspace groups', top.groups, top.groupsTotal, top.groups.length < top.groupsTotal),
      block('users', 'Top users', top.users, top.usersTotal, top.users.length < top.usersTotal),
    );
  }

  // ----- member directory (MemberDirectory, seat mutations) ----------------------

  private renderDirectoryFromPage(org: Org): void {
    const members = org.members;
    if (members === null) {
      this.hide('directory'); // redacted: without billing:read:all
      this.directory = null;
      return;
    }
    this.directory = {
      rows: members.edges.map((edge) => edge.node),
      total: members.totalCount,
      cursor: members.pageInfo.endCursor,
      more: members.pageInfo.hasNextPage,
      filters: { org: org.id, first: 20 },
    };
    this.renderDirectory();
  }

  private async searchDirectory(filters: MemberDirectoryQueryVariables, append_: boolean): Promise<void> {
    const client = this.client;
    const generation = this.generation;
    if (client === null) return;
    this.loading('directory');
    let result: Result<MemberDirectoryQuery>;
    try {
      result = await client.request<MemberDirectoryQuery, MemberDirectoryQueryVariables>(MEMBER_DIRECTORY, filters);
    } catch (error) {
      if (generation !== this.generation) return;
      this.failed('directory', error instanceof Error ? error.message : String(error), () => void this.searchDirectory(filters, append_));
      return;
    }
    if (generation !== this.generation) return;
    const members = result.data?.organization?.members;
    if (!members) {
      this.failed('directory', result.errors[0]?.message ?? 'No answer.', () => void this.searchDirectory(filters, append_));
      return;
    }
    const rows = members.edges.map((edge) => edge.node);
    this.directory = {
      rows: append_ && this.directory ? [...this.directory.rows, ...rows] : rows,
      total: members.totalCount,
      cursor: members.pageInfo.endCursor,
      more: members.pageInfo.hasNextPage,
      filters: { ...filters, after: undefined },
    };
    this.renderDirectory();
    this.announcer.textContent = `${this.directory.rows.length} of ${members.totalCount} members shown`;
  }

  private renderDirectory(): void {
    const directory = this.directory;
    const org = this.org;
    if (directory === null || org === null) return;
    const id = (name: string) => `${this.uid}-dir-${name}`;
    const filters = directory.filters;
    const search = h('input', { id: id('search'), type: 'search', value: filters.search ?? '', autocomplete: 'off' }) as HTMLInputElement;
    const team = h('input', { id: id('team'), type: 'text', value: filters.team ?? '', autocomplete: 'off' }) as HTMLInputElement;
    const option = (value: string, text: string, selected: string | null | undefined) =>
      h('option', { value, selected: (selected ?? '') === value }, text);
    const role = h('select', { id: id('role') }, option('', 'Any role', filters.role), Object.entries(ROLE).map(([value, text]) => option(value, text, filters.role))) as HTMLSelectElement;
    const seat = h('select', { id: id('seat') }, option('', 'Any seat status', filters.seatStatus), option('ALLOCATED', 'Allocated', filters.seatStatus), option('NO_SEAT', 'No seat', filters.seatStatus)) as HTMLSelectElement;
    const form = h(
      'form',
      {
        class: 'filters',
        role: 'search',
        'aria-label': 'Find members',
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.searchDirectory(
            {
              org: org.id,
              first: 20,
              search: search.value.trim() || null,
              team: team.value.trim() || null,
              role: (role.value || null) as Role | null,
              seatStatus: (seat.value || null) as SeatStatus | null,
            },
            false,
          );
        },
      },
      h('div', { class: 'field' }, h('label', { for: id('search') }, 'Name or email'), search),
      h('div', { class: 'field' }, h('label', { for: id('role') }, 'Role'), role),
      h('div', { class: 'field' }, h('label', { for: id('team') }, 'Team'), team),
      h('div', { class: 'field' }, h('label', { for: id('seat') }, 'Seat status'), seat),
      h('button', { type: 'submit' }, 'Search'),
    );
    const status = h('p', { class: 'form-status', role: 'status', 'data-seat-status': '' });
    const canManage = org.viewerCan.manageSeats;
    const headers = ['Name', 'Email', 'Role', 'Teams', 'Seat', ...(canManage ? ['Seat action'] : [])];
    const rows = directory.rows.map((member) => [
      member.name,
      member.email,
      label(ROLE, member.role),
      member.teams.join(', ') || '—',
      member.seatStatus === 'ALLOCATED' ? `Allocated (${label(SEAT_TYPE, member.seatType)})` : 'No seat',
      ...(canManage ? [this.seatAction(member, status)] : []),
    ]);
    this.fill(
      'directory',
      form,
      directory.rows.length === 0
        ? h('p', { class: 'empty' }, 'No member matches these filters.')
        : this.table(`Members (${this.fmt.number(directory.rows.length)} of ${this.fmt.number(directory.total)})`, headers, rows, 'members'),
      status,
      directory.more
        ? h(
            'button',
            { type: 'button', class: 'more', 'data-more': 'members', onclick: () => void this.searchDirectory({ ...directory.filters, after: directory.cursor }, true) },
            'Show more members',
          )
        : null,
    );
  }

  private seatAction(member: MemberNode, status: HTMLElement): HTMLElement {
    const run = async (operation: 'AllocateSeat' | 'DeallocateSeat', seatType: SeatType | null) => {
      const client = this.client;
      const org = this.org;
      if (!client || !org) return;
      status.textContent = `Updating ${member.name}'s seat…`;
      try {
        const result =
          operation === 'AllocateSeat'
            ? await client.request<AllocateSeatMutation, AllocateSeatMutationVariables>(SEATS, { org: org.id, user: member.userId, seatType }, operation)
            : await client.request<DeallocateSeatMutation, DeallocateSeatMutationVariables>(SEATS, { org: org.id, user: member.userId }, operation);
        const payload = 'allocateSeat' in (result.data ?? {}) ? (result.data as AllocateSeatMutation).allocateSeat : (result.data as DeallocateSeatMutation | null)?.deallocateSeat;
        const problem = payload?.userErrors[0]?.message ?? result.errors[0]?.message;
        if (problem || !payload?.member) {
          status.textContent = problem ?? 'The seat did not change.';
          return;
        }
        Object.assign(member, payload.member);
        this.renderDirectory();
        const message = `${member.name}: ${member.seatStatus === 'ALLOCATED' ? 'seat allocated' : 'seat removed'}.`;
        this.announcer.textContent = message;
        this.panel('directory').body.querySelector('[data-seat-status]')!.textContent = message;
        if (payload.seats && org.seats) {
          Object.assign(org.seats, payload.seats);
          this.renderSeats(org);
        }
        void this.load(true);
      } catch (error) {
        status.textContent = error instanceof Error ? error.message : String(error);
      }
    };
    if (member.seatStatus === 'ALLOCATED') {
      return h('button', { type: 'button', 'data-seat-action': member.userId, 'aria-label': `Remove seat of ${member.name}`, onclick: () => void run('DeallocateSeat', null) }, 'Remove seat');
    }
    const selectId = `${this.uid}-seat-${member.userId}`;
    const select = h('select', { id: selectId, 'aria-label': `Seat type for ${member.name}` }, h('option', { value: 'POWER' }, 'Power'), h('option', { value: 'COLLABORATOR' }, 'Collaborator')) as HTMLSelectElement;
    return h(
      'span',
      { class: 'seat-action' },
      select,
      h('button', { type: 'button', 'data-seat-action': member.userId, 'aria-label': `Allocate seat to ${member.name}`, onclick: () => void run('AllocateSeat', select.value as SeatType) }, 'Allocate seat'),
    );
  }
}

function panelErrors(errors: GraphQLErrorShape[]): Map<PanelId, string> {
  const broken = new Map<PanelId, string>();
  for (const error of errors) {
    const field = error.path?.[1];
    const panel = typeof field === 'string' ? FIELD_PANEL[field] : undefined;
    if (panel && !broken.has(panel)) broken.set(panel, error.message);
  }
  return broken;
}

if (!customElements.get('usage-page')) customElements.define('usage-page', UsagePageElement);

declare global {
  interface HTMLElementTagNameMap {
    'usage-page': UsagePageElement;
  }
}
