package room

import (
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// bucket is a token bucket: it holds up to burst tokens and refills at rate
// per second. It keeps no timer; its level is derived from the time of the
// last take. It lives in memory only: if the object is evicted the bucket
// starts full again, which is harmless because eviction needs 10 s of
// silence, and 10 s at the defaults refills both a user's burst of 10 (at
// 5/s) and a connection's frame budget of 30 (at 10/s) anyway.
type bucket struct {
	tokens float64
	at     time.Time
}

// take removes one token if there is one. Otherwise it reports how long until
// one will be there.
func (b *bucket) take(now time.Time, rate float64, burst int) (bool, time.Duration) {
	if b.at.IsZero() {
		b.tokens, b.at = float64(burst), now
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = math.Min(float64(burst), b.tokens+elapsed*rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / rate * float64(time.Second)))
	return false, wait
}

// blockedWord reports whether text holds a blocked word, matched
// case-insensitively on word boundaries: "darn" blocks "Darn!" but not
// "darning". Words may be phrases ("foo bar").
func blockedWord(text string, words []string) bool {
	if len(words) == 0 {
		return false
	}
	lower := strings.ToLower(text)
	for _, w := range words {
		for from := 0; from < len(lower); {
			i := strings.Index(lower[from:], w)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(w)
			if boundaryBefore(lower, start) && boundaryAfter(lower, end) {
				return true
			}
			_, size := utf8.DecodeRuneInString(lower[start:])
			from = start + size
		}
	}
	return false
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordRune(r)
}

func boundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !isWordRune(r)
}

// ParseWords splits a comma-separated BLOCKED_WORDS value into lower-case
// words, dropping blanks.
func ParseWords(csv string) []string {
	var out []string
	for _, w := range strings.Split(csv, ",") {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// controlChar reports whether text has a control character other than a
// newline or a tab.
func controlChar(text string) bool {
	for _, r := range text {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return true
		}
	}
	return false
}
