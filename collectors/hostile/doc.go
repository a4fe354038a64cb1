// Package hostile holds the hostile-vendor test suite: one table of what a
// hostile or broken vendor does (redirects elsewhere, huge bodies, looping
// pages, pages without their fields, timestamps from the future, a
// rate-limit reset in 9999, a 401 that echoes the request), run against
// every collector it applies to through the same pipeline `impact collect`
// uses. It has no code outside its tests.
package hostile
