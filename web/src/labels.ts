// Words for the schema's enum values (the page's own copy; values come from the gateway).
export const CATEGORY_TITLES: Record<string, string> = {
  CORE_LIMITS: 'Core limits',
  MONTHLY_ACTIVITY: 'Monthly activity',
  DATA_OPERATIONS: 'Data operations',
  QUOTA: 'Per-seat quotas',
  AI_BUDGET: 'AI budget',
  OPERATIONS: 'Operations',
  RUNTIME: 'Runtime',
};

export const ENFORCEMENT: Record<string, string> = {
  HARD: 'Hard cap',
  SOFT: 'Soft cap (+10 %)',
  NONE: 'Not enforced',
};

export const LEVEL: Record<string, string> = {
  NORMAL: 'Normal',
  WARNING: 'Warning',
  CRITICAL: 'Critical',
  EXCEEDED: 'Limit reached',
};

export const AI_FEATURE: Record<string, string> = {
  EMAIL: 'Email',
  CHIPS: 'Chips',
  SUMMARY: 'Summary',
  AGENT: 'Agent',
  COACHING: 'Coaching',
  CHAT: 'Chat',
};

export const TIER: Record<string, string> = {
  ADVANCED_REASONING: 'Advanced reasoning',
  STANDARD: 'Standard',
  FAST: 'Fast',
  LIGHT: 'Light',
};

export const POOL: Record<string, string> = {
  MONTHLY: 'Monthly',
  BONUS: 'Bonus',
  PURCHASED: 'Purchased',
};

export const ROLE: Record<string, string> = {
  MEMBER: 'Member',
  MANAGER: 'Manager',
  ADMIN: 'Admin',
  SUPER_ADMIN: 'Super admin',
};

export const SEAT_TYPE: Record<string, string> = {
  POWER: 'Power',
  COLLABORATOR: 'Collaborator',
};

export const ALLOWANCE_STATUS: Record<string, string> = {
  WITHIN_LIMIT: 'Within limit',
  OVER_LIMIT: 'Over limit',
  UNLIMITED: 'Unlimited',
};

export const COVERAGE: Record<string, string> = {
  COMPLETE: 'Complete pricing coverage',
  PARTIAL: 'Partial pricing coverage',
};

export const RANGES = [
  { value: 'LAST_24_HOURS', label: '24 h', long: 'Last 24 hours' },
  { value: 'LAST_7_DAYS', label: '7 d', long: 'Last 7 days' },
  { value: 'LAST_30_DAYS', label: '30 d', long: 'Last 30 days' },
] as const;

export const GRANULARITY: Record<string, string> = { HOUR: 'hourly', DAY: 'daily', WEEK: 'weekly' };

export const label = (table: Record<string, string>, value: string | null | undefined): string =>
  value == null ? '—' : (table[value] ?? value);
