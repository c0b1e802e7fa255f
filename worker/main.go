//go:build js && wasm

// Command worker is the Go program behind the Worker and its ChatRoom
// Durable Objects. One instance runs per isolate: glue.mjs starts it once and
// forwards every request and WebSocket event to its Wasm exports.
package main

func main() {
	// Every entry point is a Wasm export (//go:wasmexport); main only has
	// to stay alive, and blocks without a timer, so the program idles
	// between events.
	select {}
}
