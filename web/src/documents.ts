// The contract's own documents (operations/), sent as they are: the page never
// writes GraphQL of its own.
import usageChart from '../../operations/usage_chart.graphql?raw';
import usageLive from '../../operations/usage_live.graphql?raw';
import usagePage from '../../operations/usage_page.graphql?raw';
import memberDirectory from '../../operations/members.graphql?raw';
import seats from '../../operations/seats.graphql?raw';

export const USAGE_PAGE = usagePage;
export const USAGE_LIVE = usageLive;
export const USAGE_CHART = usageChart;
export const MEMBER_DIRECTORY = memberDirectory;
/** AllocateSeat, DeallocateSeat, ChangeSeats, SetPersonalAllocation: send with operationName. */
export const SEATS = seats;
