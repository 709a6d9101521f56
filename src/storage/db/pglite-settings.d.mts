/** PostgreSQL start parameters of the embedded database (pglite-settings.mjs). */
export declare const PGLITE_START_PARAMS: string[];
