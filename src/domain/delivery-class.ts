// The disjoint delivery classes statistics split messages into, from a message's current status, err and type.
import { failurePermanence } from "./errors.js";
import { TYPE_HLR, TYPE_PING } from "./message-types.js";
import { statusClass } from "./statuses.js";

export type DeliveryClass = "delivered" | "expired" | "failed_permanent" | "failed_temporary" | "failed_other" | "pending";
export const DELIVERY_CLASSES: readonly DeliveryClass[] = ["delivered", "expired", "failed_permanent", "failed_temporary", "failed_other", "pending"];

/**
 * The class a message's current (status, err) falls in; a registered message with no status yet is pending. For
 * HLR and ping requests (types 4 and 5) status 1 means "the HLR answered": only err 0 counts as delivered, any other
 * err is a failure classed by the err.
 */
export function deliveryClass(status: number | null, err: number | null, type: number | null = 0): DeliveryClass {
  if (status === null) return "pending";
  if ((type === TYPE_HLR || type === TYPE_PING) && status === 1 && err !== null && err !== 0) {
    return `failed_${failurePermanence(status, err)}` as DeliveryClass;
  }
  switch (statusClass(status)) {
    case "delivered":
      return "delivered";
    case "expired":
      return "expired";
    case "pending":
      return "pending";
    default:
      return `failed_${failurePermanence(status, err)}` as DeliveryClass;
  }
}

