package serve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/netlab/netlab/serve/store"
)

// Config is how netlab serve runs.
type Config struct {
	Listen  string // host:port
	DataDir string
	// TLSCert and TLSKey are a certificate to serve HTTPS with. Without
	// them the server makes one on first start (kept in DataDir/tls) when
	// it listens beyond loopback, and serves plain HTTP on loopback.
	TLSCert, TLSKey string
	Runtime         string
	BaseURL         string
	MaxStarts       int // labs brought up at once (0: no limit)
	Log             *slog.Logger
	// Ready, if set, is called with the server's address once it listens.
	Ready func(url string)
}

// Run serves until ctx ends.
func Run(ctx context.Context, cfg Config, labs Labs) error {
	st, err := store.Open(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (another server there? choose another with --listen)", cfg.Listen, err)
	}
	tlsConf, err := tlsConfig(cfg, ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	scheme := "http"
	if tlsConf != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsConf)
	}
	srv := New(Options{Store: st, Labs: labs, DataDir: cfg.DataDir, TLS: tlsConf != nil, Runtime: cfg.Runtime, BaseURL: cfg.BaseURL, MaxStarts: cfg.MaxStarts, Log: cfg.Log})
	defer srv.Close()
	if _, err := srv.Reconcile(ctx); err != nil {
		cfg.Log.Warn("could not list the running labs", "err", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	url := scheme + "://" + ln.Addr().String()
	cfg.Log.Info("serving", "url", url, "data", cfg.DataDir)
	if cfg.Ready != nil {
		cfg.Ready(url)
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(shut)
	return nil
}

// IsLoopback tells whether a listen address stays on this machine.
func IsLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// tlsConfig is the TLS the server speaks: the given certificate, else
// none on loopback, else one made and kept in DataDir/tls.
func tlsConfig(cfg Config, addr net.Addr) (*tls.Config, error) {
	certFile, keyFile := cfg.TLSCert, cfg.TLSKey
	if (certFile == "") != (keyFile == "") {
		return nil, usagef("give both --tls-cert and --tls-key, or neither")
	}
	if certFile == "" {
		if IsLoopback(addr) {
			return nil, nil
		}
		dir := filepath.Join(cfg.DataDir, "tls")
		certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if _, err := os.Stat(certFile); errors.Is(err, os.ErrNotExist) {
			if err := selfSigned(certFile, keyFile); err != nil {
				return nil, fmt.Errorf("make a certificate in %s: %w", dir, err)
			}
			cfg.Log.Info("made a self-signed certificate; give --tls-cert and --tls-key for one browsers trust", "cert", certFile)
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s, key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// selfSigned makes an ECDSA P-256 certificate for this host's name and
// addresses, valid for two years.
func selfSigned(certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "netlab serve " + host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(2 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{host, "localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ipn.IP)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
