import { Profile } from "./schemas/profile";
import jsProfile from "../profiles/js.json";
import jsNetProfile from "../profiles/js-net.json";
import linuxProfile from "../profiles/linux.json";
import linuxNetProfile from "../profiles/linux-net.json";

/** Every shipped profile, validated once when the module loads (a bad file fails the build's tests). */
export const PROFILES: ReadonlyMap<string, Profile> = new Map(
  [jsProfile, jsNetProfile, linuxProfile, linuxNetProfile].map((raw) => {
    const profile = Profile.parse(raw);
    return [profile.name, profile];
  }),
);

export const DEFAULT_PROFILE = "js";

export function findProfile(name: string): Profile | undefined {
  return PROFILES.get(name);
}
