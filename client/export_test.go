package client

// Backoff exposes the reconnect delay to the tests.
var Backoff = backoff
