package account

import "time"

// Throttling. Consecutive failures of any factor (password, TOTP code,
// security answer) on one account lock it for a delay that doubles with each
// further failure, up to a cap; after HardLimit consecutive failures the
// account stays locked until an administrator unlocks it (NIST SP 800-63B 5.2.2 allows at most 100). A success resets the count.
//
// With the defaults the 5th consecutive failure locks the account for 1
// minute, the next ones for 2, 4, 8, then 15 minutes each: an attacker gets
// about 100 tries a day, far too few against a 6-digit code (±1 step gives 3
// chances in a million per try).
type Throttle struct {
	FreeFailures int           // failures that do not lock; the next one does
	BaseDelay    time.Duration // lock after the first failure past FreeFailures
	MaxDelay     time.Duration // cap of the doubling delay
	HardLimit    int           // consecutive failures after which the lock lasts until cleared
}

// DefaultThrottle returns Sesame's documented defaults (see SECURITY.md).
func DefaultThrottle() Throttle {
	return Throttle{FreeFailures: 4, BaseDelay: time.Minute, MaxDelay: 15 * time.Minute, HardLimit: 100}
}

// Forever is the LockedUntil of an account past the hard limit.
var Forever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Locked reports whether the account is locked at now.
func (a *Account) Locked(now time.Time) bool { return now.Before(a.LockedUntil) }

// Fail records one more consecutive failure at now and sets the lock it earns.
func (th Throttle) Fail(a *Account, now time.Time) {
	a.FailedAttempts++
	n := a.FailedAttempts - th.FreeFailures
	switch {
	case a.FailedAttempts >= th.HardLimit:
		a.LockedUntil = Forever
	case n > 0:
		d := th.BaseDelay
		for i := 1; i < n && d < th.MaxDelay; i++ {
			d *= 2
		}
		d = min(d, th.MaxDelay)
		if until := now.Add(d); until.After(a.LockedUntil) {
			a.LockedUntil = until
		}
	}
}

// Succeed clears the failure count after a successful authentication.
func (th Throttle) Succeed(a *Account) {
	a.FailedAttempts = 0
	a.LockedUntil = time.Time{}
}

// AddressLimit bounds failures from one network address (an IPv4 address or
// an IPv6 /64) within a sliding window, whatever accounts they aim at.
type AddressLimit struct {
	Failures int
	Window   time.Duration
}

// DefaultAddressLimit returns the documented default: 50 failures in 15 minutes.
func DefaultAddressLimit() AddressLimit {
	return AddressLimit{Failures: 50, Window: 15 * time.Minute}
}
