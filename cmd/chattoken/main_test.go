package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReadDevVar(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, file, want string
		ok               bool
	}{
		{"plain", "AUTH_SECRET=abc\n", "abc", true},
		{"quoted", "# local only\nOTHER=1\nAUTH_SECRET=\"a b=c\"\n", "a b=c", true},
		{"single quoted", "AUTH_SECRET='x'", "x", true},
		{"commented out", "#AUTH_SECRET=abc\n", "", false},
		{"empty", "AUTH_SECRET=\n", "", false},
		{"missing", "OTHER=1\n", "", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(dir, string(rune('a'+i)))
			os.WriteFile(p, []byte(tt.file), 0o600)
			got, err := readDevVar(p, "AUTH_SECRET")
			if got != tt.want || (err == nil) != tt.ok {
				t.Errorf("readDevVar = %q, %v; want %q, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
	if _, err := readDevVar(filepath.Join(dir, "nope"), "AUTH_SECRET"); err == nil {
		t.Error("a missing file is not an error")
	}
}

func TestSplitRooms(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{"": nil, " lobby , team-* ,": {"lobby", "team-*"}, "a": {"a"}} {
		if got := splitRooms(in); !slices.Equal(got, want) || (want == nil) != (got == nil) {
			t.Errorf("splitRooms(%q) = %q, want %q", in, got, want)
		}
	}
}
