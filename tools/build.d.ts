/** Types of tools/build.js (plain JavaScript: npm's prepare may run it on an older Node). */
export declare const build: () => Promise<void>
