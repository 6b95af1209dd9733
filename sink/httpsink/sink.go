package httpsink

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/stagetrace/stagetrace"
	"github.com/stagetrace/stagetrace/redact"
)

var _ stagetrace.Sink = (*Sink)(nil)

// userAgent is sent unless WithHeaders sets one.
const userAgent = "stagetrace-httpsink"

// maxRetainedBuf is the largest encoding buffer kept for reuse; one grown
// for a huge batch is dropped after use rather than pinned.
const maxRetainedBuf = 4 << 20

// Sink is a [stagetrace.Sink] that POSTs each batch as one JSON request to
// an ingest endpoint. It is safe for concurrent use. Create one with [New].
type Sink struct {
	url     string           // what requests go to
	display string           // the URL without credentials or query, for errors
	header  http.Header      // sent with every request, token included
	secrets *redact.Scrubber // the token and secret headers, scrubbed from anything a server echoes back
	cfg     config

	transport *http.Transport
	client    *http.Client
	encoders  sync.Pool // *encodeState

	// stopCtx is cancelled when Shutdown gives up waiting, cutting short
	// the writes still in flight.
	stopCtx context.Context
	stop    context.CancelFunc

	mu       sync.Mutex
	closed   bool
	inflight int
	idle     chan struct{} // closed once closed is set and inflight is 0
}

// New returns a Sink posting to rawURL, which must be an absolute http or
// https URL with a host. It fails with a clear error for a bad URL or
// invalid options, and when [WithTokenEnv] names an unset or empty
// variable. The error never contains a password given in the URL.
func New(rawURL string, opts ...Option) (*Sink, error) {
	u, display, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	header := cfg.headers.Clone()
	header.Set("Content-Type", "application/json")
	if cfg.gzip {
		header.Set("Content-Encoding", "gzip")
	}
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", userAgent)
	}
	var token string
	if cfg.tokenEnv != "" {
		token = os.Getenv(cfg.tokenEnv)
		if token == "" {
			return nil, fmt.Errorf("httpsink: environment variable %s (WithTokenEnv) is unset or empty", cfg.tokenEnv)
		}
		header.Set("Authorization", "Bearer "+token)
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.tlsConfig != nil {
		transport.TLSClientConfig = cfg.tlsConfig.Clone()
	}
	transport.ForceAttemptHTTP2 = true
	stopCtx, stop := context.WithCancel(context.Background())
	s := &Sink{
		url:       u.String(),
		display:   display,
		header:    header,
		secrets:   redact.NewScrubber(secretValues(header)...),
		cfg:       cfg,
		transport: transport,
		client: &http.Client{
			Transport: transport,
			// An ingest endpoint has no reason to redirect, and following
			// a redirect would send the batch, and maybe the token,
			// somewhere not configured: the 3xx is reported instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		stopCtx: stopCtx,
		stop:    stop,
		idle:    make(chan struct{}),
	}
	return s, nil
}

// parseURL checks rawURL and returns it with a form fit for errors: scheme,
// host and path only, since user info and query may hold secrets.
func parseURL(rawURL string) (*url.URL, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password included
		}
		return nil, "", fmt.Errorf("httpsink: invalid URL: %w", err)
	}
	display := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, "", fmt.Errorf("httpsink: invalid URL %q: not absolute, want http:// or https://", display)
	default:
		return nil, "", fmt.Errorf("httpsink: invalid URL %q: scheme %q is not http or https", display, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, "", fmt.Errorf("httpsink: invalid URL %q: no host", display)
	}
	return u, display, nil
}

// URL returns the URL the sink posts to, without user info or query.
func (s *Sink) URL() string { return s.display }

// enter registers a Write in flight, or reports that the sink is closed.
func (s *Sink) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.inflight++
	return true
}

func (s *Sink) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
	if s.closed && s.inflight == 0 {
		close(s.idle)
	}
}

// Write posts b as one request, {"spans":[...],"events":[...]}, each
// element a record in the JSON line form of [stagetrace.Encoder], and
// retries it as [WithRetry] says: on network errors, 408, 429 and 5xx
// responses, honouring Retry-After on 429 and 503. Other responses that
// are not 2xx fail at once with a [*StatusError]. Write returns promptly,
// with an error wrapping ctx's, when ctx is done, and with an error
// matching [stagetrace.ErrClosed] after Shutdown, or when Shutdown gives
// up waiting for it. An empty batch sends nothing.
func (s *Sink) Write(ctx context.Context, b stagetrace.Batch) error {
	if !s.enter() {
		return fmt.Errorf("httpsink: post to %s: %w", s.display, stagetrace.ErrClosed)
	}
	defer s.leave()
	if b.Len() == 0 {
		return nil
	}
	st := s.getEncoder()
	defer s.putEncoder(st)
	body, err := st.encode(b, s.cfg.gzip)
	if err != nil {
		return fmt.Errorf("httpsink: encode batch: %w", err)
	}

	// Shutdown cancels writes it gives up waiting for.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopWatch := context.AfterFunc(s.stopCtx, func() { cancel(stagetrace.ErrClosed) })
	defer stopWatch()
	return s.send(ctx, body)
}

// Shutdown stops accepting writes, waits for those in flight until ctx is
// done, then cancels any still running, and closes idle connections. It
// returns an error, wrapping ctx's, when it had to cancel writes, and nil
// when none was in flight, even with ctx done already. Calling it again
// returns nil once the writes in flight have ended.
func (s *Sink) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		if s.inflight == 0 {
			close(s.idle)
		}
	}
	s.mu.Unlock()

	var err error
	select {
	case <-s.idle:
		// Nothing in flight. Looked at first: with ctx done already, one
		// select over both would pick either at random.
	default:
		select {
		case <-s.idle:
		case <-ctx.Done():
			s.mu.Lock()
			n := s.inflight
			s.mu.Unlock()
			if n > 0 {
				err = fmt.Errorf("httpsink: shutdown: %d writes to %s cancelled: %w", n, s.display, ctx.Err())
			}
		}
	}
	s.stop()
	s.transport.CloseIdleConnections()
	return err
}

// encodeState is the reusable state of one encoding.
type encodeState struct {
	enc stagetrace.Encoder
	buf []byte
	zb  bytes.Buffer
	zw  *gzip.Writer
}

func (s *Sink) getEncoder() *encodeState {
	if st, ok := s.encoders.Get().(*encodeState); ok {
		return st
	}
	return &encodeState{}
}

func (s *Sink) putEncoder(st *encodeState) {
	if cap(st.buf) > maxRetainedBuf || st.zb.Cap() > maxRetainedBuf {
		return
	}
	s.encoders.Put(st)
}

// encode returns the request body of b, valid until st is used again.
func (st *encodeState) encode(b stagetrace.Batch, compress bool) ([]byte, error) {
	buf := append(st.buf[:0], `{"spans":[`...)
	for i := range b.Spans {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = st.enc.AppendSpan(buf, &b.Spans[i])
		buf = buf[:len(buf)-1] // the line's newline
	}
	buf = append(buf, `],"events":[`...)
	for i := range b.Events {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = st.enc.AppendEvent(buf, &b.Events[i])
		buf = buf[:len(buf)-1]
	}
	buf = append(buf, "]}"...)
	st.buf = buf
	if !compress {
		return buf, nil
	}
	st.zb.Reset()
	if st.zw == nil {
		// BestSpeed: JSON of spans compresses well even at level 1, and
		// exporting should cost as little CPU as it can.
		zw, err := gzip.NewWriterLevel(&st.zb, gzip.BestSpeed)
		if err != nil {
			return nil, err
		}
		st.zw = zw
	} else {
		st.zw.Reset(&st.zb)
	}
	if _, err := st.zw.Write(buf); err != nil {
		return nil, err
	}
	if err := st.zw.Close(); err != nil {
		return nil, err
	}
	return st.zb.Bytes(), nil
}

// scrub removes the token, and any secret header value, from text that
// came from elsewhere (a status line, a response body, an error), so it
// can go in errors and logs: by value, escaped or cut short too.
func (s *Sink) scrub(text string) string { return s.secrets.Scrub(text) }

// secretValues returns the values of the headers that carry credentials:
// the credentials of Authorization and Proxy-Authorization, after the
// scheme, and any header whose name says key, token, secret, auth,
// session, password or cookie.
func secretValues(h http.Header) []string {
	var out []string
	for name, values := range h {
		lower := strings.ToLower(name)
		secret := false
		for _, word := range []string{"auth", "key", "token", "secret", "session", "password", "cookie"} {
			secret = secret || strings.Contains(lower, word)
		}
		if !secret {
			continue
		}
		for _, v := range values {
			if _, cred, ok := strings.Cut(v, " "); ok && strings.Contains(lower, "authorization") {
				v = strings.TrimSpace(cred) // the scheme, "Bearer", is no secret
			}
			out = append(out, v)
		}
	}
	return out
}

// drain reads what is left of a response body, up to a limit, so that the
// connection can be reused, and closes it.
func drain(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 64<<10)
	_ = body.Close()
}
