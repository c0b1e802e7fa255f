//go:build js && wasm

// Command worker is the Go program behind the Worker and its ChatRoom
// Durable Objects. One instance runs per isolate: glue.mjs starts it once and
// forwards every request and WebSocket event to the functions registered here.
package main

import (
	"syscall/js"
)

func main() {
	binding := js.Global().Get("context").Get("binding")
	export(binding, "fetch", fetch)
	// Block without a timer: the program then idles between events, and
	// js.FuncOf callbacks run on demand.
	select {}
}
