package console

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// signInCookie carries the sign-in form's token (double submit), so that
// another site cannot sign a browser in with the attacker's credential.
const signInCookie = "stagefront_console_signin"

type signInView struct {
	Next    string
	Token   string
	Message string
	KeyID   string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.renderSignIn(w, r, http.StatusOK, signInView{Next: safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, v signInView) {
	token, err := c.sessions.newToken()
	if err != nil {
		c.log.Error("console: sign-in token", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v.Token = token
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: token, Path: "/console/signin",
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	c.render(w, r, status, "signin", pageData{Title: "Sign in", Body: v})
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.renderSignIn(w, r, http.StatusBadRequest, signInView{Next: Prefix, Message: "The form could not be read."})
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	keyID := r.PostForm.Get("access_key_id")
	ck, err := r.Cookie(signInCookie)
	if err != nil || ck.Value == "" || !equalConstantTime(ck.Value, r.PostForm.Get("csrf")) {
		c.renderSignIn(w, r, http.StatusForbidden, signInView{Next: next, KeyID: keyID,
			Message: "The sign-in form expired or came from another site. Try again."})
		return
	}
	token, sess, err := c.sessions.SignIn(keyID, r.PostForm.Get("secret_access_key"), clientAddr(r))
	var throttled *ThrottledError
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds()+0.999)))
		c.log.Warn("console: sign-in throttled", "client", clientAddr(r))
		c.renderSignIn(w, r, http.StatusTooManyRequests, signInView{Next: next, KeyID: keyID,
			Message: fmt.Sprintf("Too many failed sign-ins: try again in %s.", throttled.RetryAfter.Round(time.Second))})
		return
	case errors.Is(err, ErrBadCredentials):
		c.log.Info("console: sign-in failed", "client", clientAddr(r))
		c.renderSignIn(w, r, http.StatusUnauthorized, signInView{Next: next, KeyID: keyID,
			Message: "The access key ID or the secret access key is wrong."})
		return
	case err != nil:
		c.log.Error("console: sign-in", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	c.log.Info("console: signed in", "principal", sess.Principal, "client", clientAddr(r))
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: "", Path: "/console/signin", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: Prefix,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *request) {
	c.sessions.SignOut(r.token)
	c.log.Info("console: signed out", "principal", r.session.Principal)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r.Request, "/console/signin", http.StatusSeeOther)
}

// clientAddr is the peer's IP address. X-Forwarded-For is not trusted: a
// client could name any address and escape the per-address throttle.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func equalConstantTime(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
