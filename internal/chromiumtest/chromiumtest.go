// Package chromiumtest drives a real headless Chromium from tests: once
// over the command line (--dump-dom, --screenshot) or live over the
// DevTools protocol, to open a page, read and click its DOM and take a
// screenshot.
package chromiumtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// RequireEnv makes a missing Chromium fail the browser tests rather than
// skip them; CI sets it.
const RequireEnv = "STAGETRACE_REQUIRE_CHROMIUM"

// Path returns the path of Debian's chromium, or skips the test loudly
// (fails it when RequireEnv is set).
func Path(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	msg := "!!! chromium not found: the page was NOT checked in a browser. Install it with `make chromium` (Debian's chromium package)."
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s (%s is set)", msg, RequireEnv)
	}
	fmt.Fprintln(os.Stderr, msg)
	t.Skip(msg)
	return ""
}

// baseFlags are the flags of every run: headless, no sandbox (root in a
// container), nothing fetched but the page, a profile of its own.
func baseFlags(t testing.TB) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(),
	}
}

// Headless runs chromium bin headless on target (a URL) with args and
// returns its standard output.
func Headless(t testing.TB, bin, target string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(append(baseFlags(t), args...), target)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v: %s", err, stderr.String())
	}
	return stdout.Bytes()
}

// Browser is a headless Chromium driven over the DevTools protocol.
type Browser struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT of the DevTools endpoint
	done chan struct{}
}

var listening = regexp.MustCompile(`DevTools listening on ws://([^/\s]+)/`)

// Launch starts chromium bin; the test's cleanup stops it.
func Launch(t testing.TB, bin string) *Browser {
	t.Helper()
	args := append(baseFlags(t), "--remote-debugging-port=0", "--remote-allow-origins=http://127.0.0.1", "--window-size=1280,900", "--hide-scrollbars", "about:blank")
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	b := &Browser{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(b.done)
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil && !sent {
				addr <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-b.done
		_ = cmd.Wait()
	})
	select {
	case a := <-addr:
		b.base = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatal("chromium did not open its DevTools endpoint")
	}
	return b
}

// Page is one tab.
type Page struct {
	t    testing.TB
	ws   *websocket.Conn
	mu   sync.Mutex
	next int
}

// Open opens target in a new tab.
func (b *Browser) Open(t testing.TB, target string) *Page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, b.base+"/json/new?"+url.QueryEscape(target), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("chromium: new tab: %v", err)
	}
	defer resp.Body.Close()
	var info struct {
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.WebSocketDebuggerURL == "" {
		t.Fatalf("chromium: new tab: %v (%s)", err, resp.Status)
	}
	ws, err := websocket.Dial(info.WebSocketDebuggerURL, "", "http://127.0.0.1")
	if err != nil {
		t.Fatalf("chromium: DevTools connection: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return &Page{t: t, ws: ws}
}

// call sends one DevTools command and returns its result.
func (p *Page) call(method string, params any) (json.RawMessage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	id := p.next
	if err := websocket.JSON.Send(p.ws, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		return nil, err
	}
	_ = p.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var msg struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := websocket.JSON.Receive(p.ws, &msg); err != nil {
			return nil, err
		}
		if msg.ID != id {
			continue // an event
		}
		if msg.Error != nil {
			return nil, errors.New(msg.Error.Message)
		}
		return msg.Result, nil
	}
}

// Eval evaluates a JavaScript expression in the page and decodes its
// value into v.
func (p *Page) Eval(expr string, v any) error {
	res, err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	if err != nil {
		return err
	}
	var out struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &out); err != nil {
		return err
	}
	if out.ExceptionDetails != nil {
		return fmt.Errorf("%s: %s", expr, out.ExceptionDetails.Text)
	}
	if v == nil || len(out.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(out.Result.Value, v)
}

// String evaluates expr to a string; "" when it fails.
func (p *Page) String(expr string) string {
	var s string
	if err := p.Eval(expr, &s); err != nil {
		return ""
	}
	return s
}

// Screenshot returns a PNG of the page's viewport.
func (p *Page) Screenshot() ([]byte, error) {
	res, err := p.call("Page.captureScreenshot", map[string]any{"format": "png"})
	if err != nil {
		return nil, err
	}
	var out struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(res, &out); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(strings.TrimSpace(out.Data))
}
