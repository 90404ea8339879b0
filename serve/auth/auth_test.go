package auth

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordHashVerifies(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with OWASP's parameters", h)
	}
	if err := VerifyPassword(h, "correct horse"); err != nil {
		t.Errorf("the right password: %v", err)
	}
	if err := VerifyPassword(h, "correct horsE"); err != ErrMismatch {
		t.Errorf("a wrong password: %v, want ErrMismatch", err)
	}
	h2, _ := HashPassword("correct horse")
	if h2 == h {
		t.Error("two hashes of one password are the same: no random salt")
	}
	for _, bad := range []string{"", "$argon2id$", "plain", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA"} {
		if VerifyPassword(bad, "") == nil {
			t.Errorf("hash %q matched", bad)
		}
	}
}

func TestTokens(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || len(a) != 43 {
		t.Errorf("tokens %q %q: want two different 32-byte tokens (43 base64 characters)", a, b)
	}
	if h := HashToken(a); h == HashToken(b) || h != HashToken(strings.Clone(a)) || len(h) != 64 {
		t.Error("HashToken is not a SHA-256 in hex")
	}
	if !SameToken(a, a) || SameToken(a, b) || SameToken("", "") {
		t.Error("SameToken compares wrong (the CSRF check)")
	}
	if p := NewPassword(); len(p) != 16 {
		t.Errorf("password %q: want 16 characters", p)
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(3, time.Minute)
	clock := time.Unix(1000, 0)
	l.now = func() time.Time { return clock }
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("alice"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
		l.Fail("alice")
	}
	ok, wait := l.Allow("alice")
	if ok || wait != time.Minute {
		t.Errorf("after 3 failures: allowed %v, wait %v; want refused for 1m", ok, wait)
	}
	if ok, _ := l.Allow("bob"); !ok {
		t.Error("another key is limited too")
	}
	clock = clock.Add(61 * time.Second)
	if ok, _ := l.Allow("alice"); !ok {
		t.Error("still refused after the window")
	}
	l.Fail("alice")
	l.Reset("alice")
	if len(l.failures) != 0 {
		t.Errorf("failures kept: %v", l.failures)
	}
}
