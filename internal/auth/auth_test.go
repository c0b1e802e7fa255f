package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chatroom/gochat/internal/auth"
	"github.com/golang-jwt/jwt/v5"
)

var (
	secret = []byte("test-secret-0123456789")
	now    = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
)

func valid(u string) bool { return u != "" && len(u) <= 64 && !strings.ContainsAny(u, "\n\x00") }

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	t.Parallel()
	good, _ := auth.Mint("alice", time.Hour, secret, now)
	parts := strings.Split(good, ".")
	noneTok := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.RegisteredClaims{Subject: "alice", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))})
	hs512 := sign(t, jwt.SigningMethodHS512, secret, jwt.RegisteredClaims{Subject: "alice", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))})
	expiredOther := mustMint(t, "alice", -time.Minute, []byte("other"), now)
	// An RS256 header over an HMAC made with the secret: the classic
	// algorithm-confusion forgery.
	rsHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	rsForged := rsHeader + "." + parts[1] + "." + hmacSig(rsHeader+"."+parts[1])
	forgedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"mallory","exp":` + "9999999999" + `}`))
	tests := []struct {
		name  string
		token string
		user  string
		err   error
	}{
		{"valid", good, "alice", nil},
		{"missing", "", "", auth.ErrMissing},
		{"garbage", "not.a.jwt", "", auth.ErrInvalid},
		{"other secret", mustMint(t, "alice", time.Hour, []byte("other"), now), "", auth.ErrInvalid},
		{"expired", mustMint(t, "alice", -time.Minute, secret, now), "", auth.ErrExpired},
		{"expired under another secret is invalid, not expired", expiredOther, "", auth.ErrInvalid},
		{"RS256 header signed with the HMAC secret", rsForged, "", auth.ErrInvalid},
		{"unknown alg", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"XX1"}`)) + "." + parts[1] + "." + parts[2], "", auth.ErrInvalid},
		{"signature not base64", parts[0] + "." + parts[1] + ".!!", "", auth.ErrInvalid},
		{"four segments", good + ".x", "", auth.ErrInvalid},
		{"alg none", noneTok, "", auth.ErrInvalid},
		{"HS512 is not accepted", hs512, "", auth.ErrInvalid},
		{"payload swapped under the same signature", parts[0] + "." + forgedPayload + "." + parts[2], "", auth.ErrInvalid},
		{"no exp", sign(t, jwt.SigningMethodHS256, secret, jwt.RegisteredClaims{Subject: "alice"}), "", auth.ErrInvalid},
		{"no sub", sign(t, jwt.SigningMethodHS256, secret, jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}), "", auth.ErrInvalid},
		{"invalid sub", mustMint(t, strings.Repeat("x", 65), time.Hour, secret, now), "", auth.ErrInvalid},
		{"not yet valid", sign(t, jwt.SigningMethodHS256, secret, jwt.RegisteredClaims{Subject: "alice", ExpiresAt: jwt.NewNumericDate(now.Add(2 * time.Hour)), NotBefore: jwt.NewNumericDate(now.Add(time.Hour))}), "", auth.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			user, err := auth.Verify(tt.token, secret, now, valid)
			if user != tt.user || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("Verify = %q, %v; want %q, %v", user, err, tt.user, tt.err)
			}
		})
	}
}

// hmacSig is an HS256 signature of text under the test secret.
func hmacSig(text string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(text))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func mustMint(t *testing.T, user string, ttl time.Duration, key []byte, at time.Time) string {
	t.Helper()
	s, err := auth.Mint(user, ttl, key, at)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFromRequest(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, query, header, want string }{
		{"query", "q", "", "q"},
		{"bearer", "", "Bearer h", "h"},
		{"query wins", "q", "Bearer h", "q"},
		{"basic is not a token", "", "Basic abc", ""},
		{"empty bearer", "", "Bearer ", ""},
		{"none", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := auth.FromRequest(tt.query, tt.header); got != tt.want {
				t.Errorf("FromRequest = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOriginAllowed(t *testing.T) {
	t.Parallel()
	list := auth.ParseOrigins(" https://chat.example.com, http://127.0.0.1:8787/ ,")
	tests := []struct {
		name    string
		allowed []string
		origin  string
		want    bool
	}{
		{"no list allows all", nil, "https://evil.example", true},
		{"listed", list, "https://chat.example.com", true},
		{"listed, other case", list, "HTTPS://Chat.Example.com", true},
		{"listed with port", list, "http://127.0.0.1:8787", true},
		{"not listed", list, "https://evil.example", false},
		{"other port", list, "http://127.0.0.1:9999", false},
		{"suffix trick", list, "https://chat.example.com.evil.example", false},
		{"no origin passes", list, "", true},
		{"null origin is an origin", list, "null", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := auth.OriginAllowed(tt.allowed, tt.origin); got != tt.want {
				t.Errorf("OriginAllowed(%q) = %v, want %v", tt.origin, got, tt.want)
			}
		})
	}
}
