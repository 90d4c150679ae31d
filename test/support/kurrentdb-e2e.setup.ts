// setupFiles of the jest project that runs the end-to-end specs on the KurrentDB adapter.
process.env.STAGECRAFT_E2E_STORE = 'kurrentdb';
