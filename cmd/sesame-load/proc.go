package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's CPU times:
// 100 on every architecture Go supports on Linux.
const clockTicks = 100

// procSample is what the tool reads of the portal's process.
type procSample struct {
	cpu    time.Duration // user + system CPU time since the process started
	peakKB int64         // VmHWM: the peak resident set, since start or the last reset
}

// readProc reads the CPU time (utime + stime of /proc/PID/stat) and peak
// resident memory (VmHWM of /proc/PID/status) of process pid.
func readProc(pid int) (procSample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, err
	}
	// The command name, in parentheses, may hold spaces: count fields after
	// its closing parenthesis. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return procSample{}, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return procSample{}, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return procSample{}, fmt.Errorf("/proc stat: %w", err)
	}
	s := procSample{cpu: time.Duration(utime+stime) * time.Second / clockTicks}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procSample{}, err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
			if s.peakKB, err = strconv.ParseInt(kb, 10, 64); err != nil {
				return procSample{}, fmt.Errorf("/proc status VmHWM: %w", err)
			}
		}
	}
	return s, nil
}

// resetPeak starts pid's VmHWM over from its current resident set (Linux's
// clear_refs "5"), so the peak measured is the load's, not the set-up's.
// It needs to own the process; the report says when it could not.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}
