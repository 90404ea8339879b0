package serve

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestTLSOnlyBeyondLoopback(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Log: nil}
	if c, err := tlsConfig(cfg, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}); c != nil || err != nil {
		t.Errorf("on loopback: %v %v, want plain HTTP", c, err)
	}
	cfg.Log = discardLog()
	c, err := tlsConfig(cfg, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 8443})
	if err != nil || c == nil || len(c.Certificates) != 1 {
		t.Fatalf("beyond loopback: %v %v, want a certificate", c, err)
	}
	certFile := filepath.Join(dir, "tls", "cert.pem")
	first, _ := os.ReadFile(certFile)
	block, _ := pem.Decode(first)
	if block == nil {
		t.Fatalf("%s holds no PEM certificate", certFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || cert.VerifyHostname("localhost") != nil {
		t.Errorf("certificate: %v; want one for localhost too", err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "tls", "key.pem")); st == nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the key is not private (0600): %v", st)
	}
	if _, err := tlsConfig(cfg, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 8443}); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(certFile); !bytes.Equal(first, again) {
		t.Error("a second start made a new certificate: it keeps the first")
	}
	cfg.TLSCert = certFile
	if _, err := tlsConfig(cfg, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}); !IsUsage(err) {
		t.Errorf("--tls-cert without --tls-key: %v, want a usage error", err)
	}
}
