package bench

import (
	"fmt"
	"syscall"
	"unsafe"
)

// OpenCounter counts the times files are opened, by any process, through
// inotify: it shows from outside statectl (in process or not) how often a
// run reads a file, e.g. a map.jinja imported by many SLS files.
type OpenCounter struct {
	fd    int
	paths map[int32]string
}

// NewOpenCounter watches paths for opens.
func NewOpenCounter(paths ...string) (*OpenCounter, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("failed to start inotify: %w", err)
	}
	c := &OpenCounter{fd: fd, paths: map[int32]string{}}
	for _, p := range paths {
		// Closes are watched too, though not counted: inotify merges an
		// event identical to the last unread one, so back-to-back opens
		// of one file would count once; OPEN CLOSE OPEN CLOSE never merge.
		wd, err := syscall.InotifyAddWatch(fd, p, syscall.IN_OPEN|syscall.IN_CLOSE)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("failed to watch %s: %w", p, err)
		}
		c.paths[int32(wd)] = p
	}
	return c, nil
}

// Take returns the opens per path since the last Take (paths never opened
// are absent). Opens are queued by the kernel when they happen, so
// everything opened before Take was called is counted.
func (c *OpenCounter) Take() (map[string]int, error) {
	out := map[string]int{}
	buf := make([]byte, 64*1024)
	for {
		n, err := syscall.Read(c.fd, buf)
		if err == syscall.EAGAIN || n == 0 {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read inotify events: %w", err)
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			if ev.Mask&syscall.IN_Q_OVERFLOW != 0 {
				return nil, fmt.Errorf("inotify queue overflowed")
			}
			if ev.Mask&syscall.IN_OPEN != 0 {
				out[c.paths[ev.Wd]]++
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

// Close stops watching.
func (c *OpenCounter) Close() error { return syscall.Close(c.fd) }
