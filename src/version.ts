/** VERSION is nbox's release, as package.json names it (a unit test keeps the two equal). */
export const VERSION = '0.1.0';
