// A broken workflow tends to hang rather than throw: its test fails within a minute, not
// after the integration tests' ten.
jest.setTimeout(60_000);
