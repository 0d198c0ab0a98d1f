// Package e2e holds the browser end-to-end tests: a real headless Chromium,
// driven with clicks and key presses, against the real portal pages and
// Finagora, each served in-process on a SQLite store in a temp folder.
//
// The package has no code of its own, only tests. They need Chromium
// (Debian's package "chromium"): without it they skip, except when the
// environment variable CI is set, where a skipped browser test is a failure.
//
// The portal is reached as http://localhost:PORT, never 127.0.0.1: Chromium
// treats localhost as a secure context, so the portal's __Host- cookies,
// which are Secure, work over plain http there. A second server on
// 127.0.0.1 plays a foreign site for the cross-site tests.
//
// Only chrome_test.go imports chromedp, whose API changes often; the tests
// speak to the small helper it defines.
package e2e
