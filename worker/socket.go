//go:build js && wasm

package main

import (
	"runtime"
	"syscall/js"
	"time"

	"github.com/chatroom/gochat/room"
)

// socket adapts a runtime WebSocket to room.Socket. tag, when defined, is the
// socket's tag property as the glue read it for this event. A socket made
// with pending set takes its WebSocket from context.event on first use: on
// the hot path the room finds the session by tag and sends through the socket
// it already holds, so the event's own is never fetched.
type socket struct {
	ws      js.Value
	tag     js.Value
	pending bool
	// prefetched is the attachment as Sockets read it for a rebuild, served
	// to the first Attachment call only: later ones ask the runtime.
	prefetched    []byte
	hasPrefetched bool
}

var _ room.Socket = (*socket)(nil)

func (s *socket) value() js.Value {
	if s.pending {
		s.ws, s.pending = jsEvent.Index(0), false
	}
	return s.ws
}

func (s *socket) Send(frame []byte) error {
	return try(func() { s.value().Call("send", string(frame)) })
}

func (s *socket) Close(code int, reason string) error {
	return try(func() { s.value().Call("close", code, reason) })
}

func (s *socket) Attachment() (data []byte, err error) {
	if s.hasPrefetched {
		data, s.prefetched, s.hasPrefetched = s.prefetched, nil, false
		return data, nil
	}
	err = try(func() {
		if v := s.value().Call("deserializeAttachment"); v.Type() == js.TypeString {
			data = []byte(v.String())
		}
	})
	return data, err
}

func (s *socket) SetAttachment(data []byte) error {
	return try(func() { s.value().Call("serializeAttachment", string(data)) })
}

// tagProperty is an expando property on the runtime's WebSocket object
// (glue.mjs reads it too). It lives as long as that JS object, so it is gone
// after a wake.
const tagProperty = "gochatTag"

func (s *socket) Tag() uint64 {
	v := s.tag
	if v.IsUndefined() {
		v = s.value().Get(tagProperty)
	}
	if v.Type() == js.TypeNumber && v.Float() > 0 {
		return uint64(v.Float())
	}
	return 0
}

func (s *socket) SetTag(tag uint64) { s.value().Set(tagProperty, float64(tag)) }

// host adapts one event's view of the runtime to room.Host.
type host struct {
	st  *roomState
	now time.Time // read once per event: time only moves across I/O anyway
}

var _ room.Host = host{}

func (h host) Sockets() []room.Socket {
	pair := jsSockets.Invoke(h.st.ctx)
	all := pair.Index(0)
	var atts room.Attachments
	_ = room.DecodeJSON([]byte(pair.Index(1).String()), &atts)
	n := all.Length()
	out := make([]room.Socket, 0, n)
	for i := 0; i < n; i++ {
		s := &socket{ws: all.Index(i)}
		if i < len(atts) && atts[i] != nil {
			s.prefetched, s.hasPrefetched = []byte(*atts[i]), true
		}
		out = append(out, s)
	}
	return out
}

func (h host) Broadcast(frame []byte, to []room.Socket) []room.Socket {
	if len(to) == 0 {
		return nil
	}
	st := h.st
	if st.fanoutKey != &to[0] || st.fanoutLen != len(to) {
		arr := js.Global().Get("Array").New(len(to))
		for i, s := range to {
			arr.SetIndex(i, s.(*socket).value())
		}
		st.fanout, st.fanoutKey, st.fanoutLen = arr, &to[0], len(to)
	}
	ptr, n := goText(frame)
	failed := jsBroadcast.Invoke(ptr, n, st.fanout)
	runtime.KeepAlive(frame)
	if failed.IsUndefined() {
		return nil
	}
	out := make([]room.Socket, failed.Length())
	for i := range out {
		out[i] = to[failed.Index(i).Int()]
	}
	return out
}

func (h host) Now() time.Time { return h.now }

func (h host) SetAlarm(at time.Time) {
	h.st.ctx.Get("storage").Call("setAlarm", at.UnixMilli())
}

func (h host) EnsureAlarm(at time.Time) {
	jsEnsureAlarm.Invoke(h.st.ctx, at.UnixMilli())
}

func (h host) DeleteAlarm() {
	h.st.ctx.Get("storage").Call("deleteAlarm")
}

func (h host) AutoResponseAt(s room.Socket) time.Time {
	v := h.st.ctx.Call("getWebSocketAutoResponseTimestamp", s.(*socket).value())
	if v.Type() != js.TypeObject {
		return time.Time{}
	}
	return time.UnixMilli(int64(v.Call("getTime").Float()))
}

func (h host) Store() room.Store { return sqlStore{st: h.st} }
