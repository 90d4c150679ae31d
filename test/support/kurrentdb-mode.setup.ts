// setupFiles of the jest projects "kurrentdb-<mode>": the test double plays the server version the
// project names (jest.config.js sets it as a global).
process.env.KURRENTDB_DOUBLE_MODE = (globalThis as { KURRENTDB_DOUBLE_MODE?: string }).KURRENTDB_DOUBLE_MODE;
