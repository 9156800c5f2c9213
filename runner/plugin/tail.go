package plugin

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// tail keeps the last lines a plugin wrote to stderr, so a crash can be
// explained in the state's comment (go-plugin logs them too).
type tail struct {
	mu    sync.Mutex
	lines []string
	part  []byte
}

const tailLines = 50

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.part[:i]))
		t.part = t.part[i+1:]
	}
	if len(t.lines) > tailLines {
		t.lines = append([]string(nil), t.lines[len(t.lines)-tailLines:]...)
	}
	return len(p), nil
}

// text returns the plain (non-log) lines joined, at most max bytes: what
// an executable that is not a plugin printed.
func (t *tail) text(max int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for _, l := range append(t.lines[:len(t.lines):len(t.lines)], string(t.part)) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "{") {
			parts = append(parts, l)
		}
	}
	s := strings.Join(parts, " ")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// last returns the most telling line: a Go panic or fatal error if there
// is one, else the last non-empty line (the message of an hclog JSON line).
func (t *tail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if len(t.part) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(t.part))
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return l
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		var entry struct {
			Message string `json:"@message"`
		}
		if strings.HasPrefix(l, "{") && json.Unmarshal([]byte(l), &entry) == nil && entry.Message != "" {
			return entry.Message
		}
		return l
	}
	return ""
}

// logLines writes each line it is given to a logger at warn level.
type logLines struct {
	log  hclog.Logger
	part []byte
}

func (l *logLines) Write(p []byte) (int, error) {
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		if line := strings.TrimRight(string(l.part[:i]), "\r"); line != "" {
			l.log.Warn(line)
		}
		l.part = l.part[i+1:]
	}
}
