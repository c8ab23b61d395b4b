vcl 4.1;

# Varnish in front of a site with wagtail-personalize: personalized pages cached per decision key.
# The origin says which key a request has (a "preflight": the page asked for with
# X-Personalize-Preflight: 1 answers 204 and X-Personalize-Key, without rendering); Varnish then
# looks the page up under that key (the origin's responses say Vary: X-Personalize-Key).

backend origin {
    .host = "127.0.0.1";
    .port = "8000";
}

# Who may purge (wagtail.contrib.frontend_cache's Varnish backend sends PURGE on publish).
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed"));
        }
        # Every variant of the URL: all keys of the page go at once.
        return (purge);
    }
    if (req.restarts == 0) {
        # Only the origin's preflight names a key: a client cannot choose another visitor's.
        unset req.http.X-Personalize-Key;
        unset req.http.X-Personalize-Pass;
        unset req.http.X-Personalize-Preflight;
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Logged-in users (Django's session) and the admin are never shared.
    if (req.http.Cookie ~ "(^|;\s*)sessionid=" || req.url ~ "^/(admin|django-admin)/") {
        return (pass);
    }
    # A consenting visitor's first request mints their visitor id: let the origin answer it.
    if (req.http.Cookie ~ "(^|;\s*)pz_consent=" && req.http.Cookie !~ "(^|;\s*)pz_vid=") {
        return (pass);
    }
    if (req.restarts == 0) {
        # Ask the origin for the key first; the answer is never cached.
        set req.http.X-Personalize-Preflight = "1";
        return (pass);
    }
    unset req.http.X-Personalize-Preflight;
    if (req.http.X-Personalize-Pass) {
        return (pass);
    }
    # Cookies stay on the request (the origin needs them on a miss) but are not part of the
    # hash: what a visitor's cookies change is in the key, and Vary takes care of the key.
    return (hash);
}

sub vcl_hash {
    hash_data(req.url);
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    return (lookup);
}

sub vcl_deliver {
    if (req.http.X-Personalize-Preflight) {
        if (resp.status == 204 && resp.http.X-Personalize-Key) {
            set req.http.X-Personalize-Key = resp.http.X-Personalize-Key;
            if (resp.http.Set-Cookie) {
                # The visitor's cookies change: the page comes from the origin, which sets them
                # again. The key tells it the preflight has counted this visit already.
                set req.http.X-Personalize-Pass = "1";
            }
            return (restart);
        }
        # Not a Wagtail page: the "preflight" was the response itself.
        return (deliver);
    }
    if (obj.hits > 0) {
        set resp.http.X-Cache = "hit";
    } else {
        set resp.http.X-Cache = "miss";
    }
    # Shared caches only: the browser revalidates every time.
    if (resp.http.Cache-Control ~ "s-maxage") {
        set resp.http.Cache-Control = "private, max-age=0";
    }
}
