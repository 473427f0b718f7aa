import { NO_ACCESS_KEYS_AT_SETUP, type ControlMetadata } from './no-access-keys-at-setup/control.metadata';

export const CONTROLS: ControlMetadata[] = [NO_ACCESS_KEYS_AT_SETUP];

export function controlById(id: string): ControlMetadata | null {
  return CONTROLS.find((c) => c.id === id) ?? null;
}
