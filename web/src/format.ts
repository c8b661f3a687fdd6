// Localised display of the gateway's values (Intl): Decimal strings become numbers
// here only to be formatted, never to be added up or compared.
export class Formats {
  private readonly integer: Intl.NumberFormat;
  private readonly decimal: Intl.NumberFormat;
  private readonly percentFormat: Intl.NumberFormat;
  private readonly dateFormat: Intl.DateTimeFormat;
  private readonly dateTimeFormat: Intl.DateTimeFormat;
  private readonly hourFormat: Intl.DateTimeFormat;
  private readonly dayFormat: Intl.DateTimeFormat;

  constructor(readonly locale: string | undefined) {
    this.integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
    this.decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
    this.percentFormat = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
    this.dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
    this.dateTimeFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    this.hourFormat = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
    this.dayFormat = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' });
  }

  /** A Decimal string or number, with at most two fraction digits. */
  number(value: string | number | null | undefined): string {
    if (value === null || value === undefined) return '—';
    const n = Number(value);
    return Math.abs(n) >= 1000 ? this.integer.format(n) : this.decimal.format(n);
  }

  /** A percentage as the gateway gives it (0–100, may pass 100). */
  percent(value: number | null | undefined): string {
    if (value === null || value === undefined) return '—';
    return this.percentFormat.format(value / 100);
  }

  money(amount: string | number | null | undefined, currency = 'USD'): string {
    if (amount === null || amount === undefined) return '—';
    return new Intl.NumberFormat(this.locale, { style: 'currency', currency }).format(Number(amount));
  }

  /** An amount in a meter's unit: bytes scale to kB…TB, USD is money. */
  quantity(value: string | null | undefined, unitLabel: string): string {
    if (value === null || value === undefined) return '—';
    if (unitLabel === 'bytes') return this.bytes(Number(value));
    if (unitLabel === 'USD' || unitLabel === 'dollars') return this.money(value);
    return `${this.number(value)} ${unitLabel}`;
  }

  /** "41,410 of 50,000 contacts": the unit once, after the limit. */
  usedOf(used: string, limit: string, unitLabel: string): string {
    if (unitLabel === 'bytes' || unitLabel === 'USD' || unitLabel === 'dollars') {
      return `${this.quantity(used, unitLabel)} of ${this.quantity(limit, unitLabel)}`;
    }
    return `${this.number(used)} of ${this.number(limit)} ${unitLabel}`;
  }

  bytes(n: number): string {
    const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;
    let index = 0;
    while (Math.abs(n) >= 1000 && index < units.length - 1) {
      n /= 1000;
      index += 1;
    }
    return new Intl.NumberFormat(this.locale, {
      style: 'unit',
      unit: units[index],
      unitDisplay: 'short',
      maximumFractionDigits: 1,
    }).format(n);
  }

  date(value: string | null | undefined): string {
    return value ? this.dateFormat.format(new Date(value)) : '—';
  }

  dateTime(value: string | null | undefined): string {
    return value ? this.dateTimeFormat.format(new Date(value)) : '—';
  }

  bucket(value: string, granularity: string): string {
    const date = new Date(value);
    return granularity === 'HOUR' ? this.hourFormat.format(date) : this.dayFormat.format(date);
  }
}
