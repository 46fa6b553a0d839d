import { PROFILES } from "../profiles";
import type { ProfileList } from "../schemas/profile";
import type { OperationContext } from "./context";

/** The named, versioned profiles (the same for every tenant). */
export function profileOperations(_ctx: OperationContext) {
  return {
    /** Every profile with its isolation, network, limits, TTLs and capabilities. */
    async profiles(): Promise<ProfileList> {
      return { profiles: [...PROFILES.values()] };
    },
  };
}
