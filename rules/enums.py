"""The billing domain's vocabularies.

One definition per idea: the store persists these, the rules compute with them and the
GraphQL schema exposes them under the same names, so a value never changes spelling on
its way from the database to a client.
"""

from __future__ import annotations

from enum import StrEnum


class MeterCategory(StrEnum):
    CORE_LIMITS = "CORE_LIMITS"
    MONTHLY_ACTIVITY = "MONTHLY_ACTIVITY"
    DATA_OPERATIONS = "DATA_OPERATIONS"
    QUOTA = "QUOTA"
    AI_BUDGET = "AI_BUDGET"
    OPERATIONS = "OPERATIONS"
    RUNTIME = "RUNTIME"


class Resets(StrEnum):
    CYCLE = "CYCLE"
    NEVER = "NEVER"


class Enforcement(StrEnum):
    HARD = "HARD"
    SOFT = "SOFT"
    NONE = "NONE"


class UsageLevel(StrEnum):
    NORMAL = "NORMAL"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    EXCEEDED = "EXCEEDED"


class PlanTier(StrEnum):
    FREE = "FREE"
    STARTER = "STARTER"
    PRO = "PRO"
    BUSINESS = "BUSINESS"
    ENTERPRISE = "ENTERPRISE"
    ULTRA = "ULTRA"


class Role(StrEnum):
    MEMBER = "MEMBER"
    MANAGER = "MANAGER"
    ADMIN = "ADMIN"
    SUPER_ADMIN = "SUPER_ADMIN"

    @property
    def rank(self) -> int:
        return _ROLE_ORDER.index(self)


_ROLE_ORDER = (Role.MEMBER, Role.MANAGER, Role.ADMIN, Role.SUPER_ADMIN)


class SeatType(StrEnum):
    POWER = "POWER"
    COLLABORATOR = "COLLABORATOR"


class SeatStatus(StrEnum):
    ALLOCATED = "ALLOCATED"
    NO_SEAT = "NO_SEAT"


class BillingModel(StrEnum):
    CREDITS = "CREDITS"
    USD = "USD"


class BillingState(StrEnum):
    """How an organization pays: nothing yet, a trial, invoiced, or prepaid balances."""

    NONE = "NONE"
    TRIAL = "TRIAL"
    PAID = "PAID"
    PREPAID = "PREPAID"


class SubscriptionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    TRIALING = "TRIALING"
    PAST_DUE = "PAST_DUE"
    CANCELED = "CANCELED"


class CreditPoolKind(StrEnum):
    MONTHLY = "MONTHLY"
    BONUS = "BONUS"
    PURCHASED = "PURCHASED"


class CreditUnit(StrEnum):
    CREDITS = "CREDITS"
    USD = "USD"


class CreditPrompt(StrEnum):
    UPGRADE = "UPGRADE"
    REFERRAL = "REFERRAL"


class UpgradeTarget(StrEnum):
    SIGNUP_WIZARD = "SIGNUP_WIZARD"
    BILLING_SETTINGS = "BILLING_SETTINGS"


class UsageSource(StrEnum):
    WEB = "WEB"
    CLI = "CLI"
    API = "API"


class AiFeature(StrEnum):
    EMAIL = "EMAIL"
    CHIPS = "CHIPS"
    SUMMARY = "SUMMARY"
    AGENT = "AGENT"
    COACHING = "COACHING"
    CHAT = "CHAT"


class ModelTier(StrEnum):
    ADVANCED_REASONING = "ADVANCED_REASONING"
    STANDARD = "STANDARD"
    FAST = "FAST"
    LIGHT = "LIGHT"


class UsageRange(StrEnum):
    LAST_24_HOURS = "LAST_24_HOURS"
    LAST_7_DAYS = "LAST_7_DAYS"
    LAST_30_DAYS = "LAST_30_DAYS"


class Granularity(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"


class UsageStatus(StrEnum):
    """What became of one reported usage event."""

    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    DENIED = "DENIED"
    INVALID = "INVALID"


class UsageDecisionCode(StrEnum):
    ALLOWED = "ALLOWED"
    LIMIT_REACHED = "LIMIT_REACHED"
    SOFT_LIMIT_REACHED = "SOFT_LIMIT_REACHED"
    CREDITS_EXHAUSTED = "CREDITS_EXHAUSTED"
    SPEND_CAP_REACHED = "SPEND_CAP_REACHED"
    PERSONAL_ALLOCATION_EXCEEDED = "PERSONAL_ALLOCATION_EXCEEDED"
    AI_ACCESS_PAUSED = "AI_ACCESS_PAUSED"
    NOT_ALLOWED_ON_PLAN = "NOT_ALLOWED_ON_PLAN"
    INVALID = "INVALID"


class AllowanceStatus(StrEnum):
    WITHIN_LIMIT = "WITHIN_LIMIT"
    OVER_LIMIT = "OVER_LIMIT"
    UNLIMITED = "UNLIMITED"


class PricingCoverage(StrEnum):
    COMPLETE = "COMPLETE"
    PARTIAL = "PARTIAL"


class ReconciliationStatus(StrEnum):
    NOT_CONFIGURED = "NOT_CONFIGURED"
    PENDING = "PENDING"
    RECONCILED = "RECONCILED"
    MISMATCH = "MISMATCH"


class WorkspaceCreationReason(StrEnum):
    NO_BILLING = "NO_BILLING"
    TRIAL_NOT_APPROVED = "TRIAL_NOT_APPROVED"
    WORKSPACE_TIME_UNFUNDED = "WORKSPACE_TIME_UNFUNDED"
    MANAGED_AI_UNFUNDED = "MANAGED_AI_UNFUNDED"
    PAYMENT_PAST_DUE = "PAYMENT_PAST_DUE"


class ApiKeyKind(StrEnum):
    OPERATOR = "OPERATOR"
    SERVICE = "SERVICE"
    PARTNER = "PARTNER"


class ViewerKind(StrEnum):
    """Who is asking: a signed-in user or one of the API key kinds."""

    USER = "USER"
    OPERATOR = "OPERATOR"
    SERVICE = "SERVICE"
    PARTNER = "PARTNER"
