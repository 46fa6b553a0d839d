import { Profile } from "./schemas/profile";
import jsProfile from "../profiles/js.json";
import jsNetProfile from "../profiles/js-net.json";

/** Every shipped profile, validated once when the module loads (a bad file fails the build's tests). */
export const PROFILES: ReadonlyMap<string, Profile> = new Map(
  [jsProfile, jsNetProfile].map((raw) => {
    const profile = Profile.parse(raw);
    return [profile.name, profile];
  }),
);

export const DEFAULT_PROFILE = "js";

export function findProfile(name: string): Profile | undefined {
  return PROFILES.get(name);
}
