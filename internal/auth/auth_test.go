package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
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
			id, err := auth.Verify(tt.token, auth.Policy{Secret: secret}, now, valid)
			if id.UserID != tt.user || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("Verify = %q, %v; want %q, %v", id.UserID, err, tt.user, tt.err)
			}
		})
	}
}

// claimed signs a token with the test secret and these claims.
func claimed(t *testing.T, c map[string]any) string {
	t.Helper()
	return sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims(c))
}

func TestVerifyPolicy(t *testing.T) {
	t.Parallel()
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	strict := auth.Policy{Secret: secret, Audience: "gochat", Issuer: "https://id.example", MaxTTL: auth.DefaultMaxTTL}
	tests := []struct {
		name   string
		policy auth.Policy
		claims map[string]any
		err    error // nil: valid
	}{
		{"expired within the leeway", auth.Policy{Secret: secret}, map[string]any{"sub": "a", "exp": at(-20 * time.Second)}, nil},
		{"expired beyond the leeway", auth.Policy{Secret: secret}, map[string]any{"sub": "a", "exp": at(-31 * time.Second)}, auth.ErrExpired},
		{"nbf within the leeway", auth.Policy{Secret: secret}, map[string]any{"sub": "a", "exp": at(time.Hour), "nbf": at(20 * time.Second)}, nil},
		{"iat within the leeway", auth.Policy{Secret: secret}, map[string]any{"sub": "a", "exp": at(time.Hour), "iat": at(20 * time.Second)}, nil},
		{"iat in the future", auth.Policy{Secret: secret}, map[string]any{"sub": "a", "exp": at(time.Hour), "iat": at(time.Minute)}, auth.ErrInvalid},
		{"a day's lifetime", strict, map[string]any{"sub": "a", "aud": "gochat", "iss": "https://id.example", "iat": at(0), "exp": at(24 * time.Hour)}, nil},
		{"lifetime over the limit", strict, map[string]any{"sub": "a", "aud": "gochat", "iss": "https://id.example", "iat": at(0), "exp": at(24*time.Hour + time.Second)}, auth.ErrInvalid},
		{"exp in the year 9999", strict, map[string]any{"sub": "a", "aud": "gochat", "iss": "https://id.example", "iat": at(0), "exp": int64(253402300799)}, auth.ErrInvalid},
		{"no iat: the lifetime counts from now", strict, map[string]any{"sub": "a", "aud": "gochat", "iss": "https://id.example", "exp": at(25 * time.Hour)}, auth.ErrInvalid},
		{"no limit", auth.Policy{Secret: secret}, map[string]any{"sub": "a", "iat": at(0), "exp": at(1000 * time.Hour)}, nil},
		{"aud in a list", strict, map[string]any{"sub": "a", "aud": []string{"other", "gochat"}, "iss": "https://id.example", "exp": at(time.Hour)}, nil},
		{"wrong aud", strict, map[string]any{"sub": "a", "aud": "other", "iss": "https://id.example", "exp": at(time.Hour)}, auth.ErrInvalid},
		{"no aud", strict, map[string]any{"sub": "a", "iss": "https://id.example", "exp": at(time.Hour)}, auth.ErrInvalid},
		{"wrong iss", strict, map[string]any{"sub": "a", "aud": "gochat", "iss": "https://evil.example", "exp": at(time.Hour)}, auth.ErrInvalid},
		{"aud and iss unchecked when unset", auth.Policy{Secret: secret}, map[string]any{"sub": "a", "aud": "x", "iss": "y", "exp": at(time.Hour)}, nil},
		{"rooms must be strings", auth.Policy{Secret: secret}, map[string]any{"sub": "a", "exp": at(time.Hour), "rooms": []int{1}}, auth.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := auth.Verify(claimed(t, tt.claims), tt.policy, now, valid)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("Verify = %+v, %v; want %v", id, err, tt.err)
			}
			if err == nil && (id.UserID != "a" || id.Expires.Unix() != tt.claims["exp"].(int64)) {
				t.Errorf("identity %+v", id)
			}
		})
	}
}

func TestRoomsClaim(t *testing.T) {
	t.Parallel()
	exp := now.Add(time.Hour).Unix()
	all, _ := auth.Verify(claimed(t, map[string]any{"sub": "a", "exp": exp}), auth.Policy{Secret: secret}, now, valid)
	some, _ := auth.Verify(claimed(t, map[string]any{"sub": "a", "exp": exp, "rooms": []string{"lobby", "team-*"}}), auth.Policy{Secret: secret}, now, valid)
	none, _ := auth.Verify(claimed(t, map[string]any{"sub": "a", "exp": exp, "rooms": []string{}}), auth.Policy{Secret: secret}, now, valid)
	star, _ := auth.Verify(claimed(t, map[string]any{"sub": "a", "exp": exp, "rooms": []string{"*"}}), auth.Policy{Secret: secret}, now, valid)
	tests := []struct {
		name string
		id   auth.Identity
		room string
		want bool
	}{
		{"no claim opens any room", all, "anything", true},
		{"exact", some, "lobby", true},
		{"exact is not a prefix", some, "lobby2", false},
		{"prefix", some, "team-a", true},
		{"the bare prefix", some, "team-", true},
		{"not the prefix", some, "team", false},
		{"another room", some, "random", false},
		{"an empty list opens nothing", none, "lobby", false},
		{"a lone star opens all", star, "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.id.Opens(tt.room); got != tt.want {
				t.Errorf("Opens(%q) with rooms %q = %v, want %v", tt.room, tt.id.Rooms, got, tt.want)
			}
		})
	}
	minted, _ := auth.Mint("a", time.Hour, secret, now, "team-*")
	if id, err := auth.Verify(minted, auth.Policy{Secret: secret}, now, valid); err != nil || !slices.Equal(id.Rooms, []string{"team-*"}) {
		t.Errorf("a minted rooms claim reads back as %q, %v", id.Rooms, err)
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
	tests := []struct{ name, query, header, protocols, want string }{
		{"query", "q", "", "", "q"},
		{"bearer", "", "Bearer h", "", "h"},
		{"the scheme in capitals", "", "BEARER h", "", "h"},
		{"the scheme in lower case", "", "bearer h", "", "h"},
		{"query wins", "q", "Bearer h", "gochat, bearer.p", "q"},
		{"subprotocol", "", "", "gochat, bearer.p.q.r", "p.q.r"},
		{"subprotocol without spaces", "", "", "gochat,bearer.p", "p"},
		{"subprotocol wins over the header", "", "Bearer h", "gochat, bearer.p", "p"},
		{"an empty bearer subprotocol", "", "", "gochat, bearer.", ""},
		{"basic is not a token", "", "Basic abc", "", ""},
		{"empty bearer", "", "Bearer ", "", ""},
		{"none", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := auth.FromRequest(tt.query, tt.header, tt.protocols); got != tt.want {
				t.Errorf("FromRequest = %q, want %q", got, tt.want)
			}
		})
	}
	for protocols, want := range map[string]bool{"gochat, bearer.x": true, "bearer.x,gochat": true, "bearer.x": false, "": false, "gochatx": false} {
		if got := auth.OffersSubprotocol(protocols); got != want {
			t.Errorf("OffersSubprotocol(%q) = %v, want %v", protocols, got, want)
		}
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

func TestMintGrantMeetsAStrictPolicy(t *testing.T) {
	t.Parallel()
	strict := auth.Policy{Secret: secret, Audience: "gochat", Issuer: "https://id.example", MaxTTL: auth.DefaultMaxTTL}
	tok, err := auth.MintGrant(secret, now, auth.Grant{UserID: "bridge", TTL: time.Hour, Rooms: []string{"ops-*"}, Audience: "gochat", Issuer: "https://id.example"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := auth.Verify(tok, strict, now, valid)
	if err != nil || id.UserID != "bridge" || !id.Opens("ops-1") || id.Opens("lobby") || !id.Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("Verify = %+v, %v", id, err)
	}
	plain, _ := auth.Mint("bridge", time.Hour, secret, now)
	if _, err := auth.Verify(plain, strict, now, valid); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("a token without aud and iss under a strict policy: %v, want invalid", err)
	}
}

func TestRoleClaim(t *testing.T) {
	t.Parallel()
	exp := now.Add(time.Hour).Unix()
	for _, tt := range []struct {
		claim any
		want  string
		err   error
	}{
		{nil, "member", nil},
		{"member", "member", nil},
		{"moderator", "moderator", nil},
		{"service", "service", nil},
		{"admin", "", auth.ErrInvalid},
		{"Moderator", "", auth.ErrInvalid},
		{7, "", auth.ErrInvalid},
	} {
		c := map[string]any{"sub": "a", "exp": exp}
		if tt.claim != nil {
			c["role"] = tt.claim
		}
		id, err := auth.Verify(claimed(t, c), auth.Policy{Secret: secret}, now, valid)
		if id.Role != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("role %v: %q, %v; want %q, %v", tt.claim, id.Role, err, tt.want, tt.err)
		}
	}
	tok, _ := auth.MintGrant(secret, now, auth.Grant{UserID: "bridge", TTL: time.Hour, Role: "service"})
	if id, err := auth.Verify(tok, auth.Policy{Secret: secret}, now, valid); err != nil || id.Role != "service" {
		t.Errorf("a minted service token: %+v, %v", id, err)
	}
}
