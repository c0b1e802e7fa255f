//go:build js && wasm

package main

import (
	"errors"
	"runtime"
	"syscall/js"

	"github.com/chatroom/gochat/internal/sqlstore"
)

// sqlDB is sqlstore.DB over the current object's ctx.storage.sql. The
// statements and their logic live in internal/sqlstore, tested natively; this
// only carries values across.
type sqlDB struct{ st *roomState }

var _ sqlstore.DB = sqlDB{}

// Value runs one statement through the glue's sqlValue: one call into JS per
// statement, instead of one each for the cursor, the row and the column.
func (d sqlDB) Value(query string, args ...any) (out any, err error) {
	err = try(func() {
		v := jsSQLValue.Invoke(append([]any{d.st.sql, query}, args...)...)
		switch v.Type() {
		case js.TypeString:
			out = v.String()
		case js.TypeNumber:
			out = v.Float()
		}
	})
	return out, err
}

// Insert runs sqlstore.InsertMessage with the frame handed over as bytes in
// Go's memory (goText), through a Wasm import: no JS string is made by Go.
func (d sqlDB) Insert(frame []byte) error {
	ptr, n := goText(frame)
	failed := execText(insertMessage, int32(ptr), int32(n))
	runtime.KeepAlive(frame)
	if failed != 0 {
		return errors.New(jsContext.Get("sqlError").String())
	}
	return nil
}

// execText runs statement number stmt (see statement) on the current
// object's database with one text binding at ptr/n in Go's memory, and
// answers 0, or 1 when SQLite threw (the error is then context.sqlError).
//
//go:wasmimport gochat execText
func execText(stmt, ptr, n int32) int32

// statement registers a SQL text with the glue, once per Go program, and
// returns the number execText takes for it.
func statement(query string) int32 {
	return int32(jsStatements.Call("push", query).Int() - 1)
}

// insertMessage is the number of the statement of every message.
var insertMessage = statement(sqlstore.InsertMessage)
