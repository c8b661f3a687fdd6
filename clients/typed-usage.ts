// A client's use of the generated types: it compiles only while the documents and
// the schema agree on the names and nullability it relies on.
import type { UsagePageQuery, UsageCheckQuery } from "./build/generated/operations.js";

export function seatsLabel(page: UsagePageQuery): string {
  const organization = page.organization;
  if (organization === null || organization === undefined) return "no organization";
  const seats = organization.seats;
  if (seats === null) return "seats hidden";
  return `${seats.allocated} of ${seats.total}`;
}

export function allowed(check: UsageCheckQuery): boolean {
  return check.usageCheck.allowed;
}
