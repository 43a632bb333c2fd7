globalThis.__nitro_polyfills = true;
