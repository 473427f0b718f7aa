// The API token lives in sessionStorage only: gone when the tab closes, never in a URL, a cookie or localStorage.
const KEY = 'keywarden.token';

export const session = {
  token(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
  },
};
