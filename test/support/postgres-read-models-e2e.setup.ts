// setupFiles of the jest project that runs the analytics end-to-end specs on PostgreSQL read models.
process.env.STAGECRAFT_E2E_READ_MODELS = 'postgres';
