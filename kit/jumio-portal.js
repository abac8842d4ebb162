/*
 * jumio-portal.js - mod_jumio's front-end kit (no dependencies, no build step).
 *
 *   <div id="jumio"></div>
 *   <script src="/jumio/jumio-portal.js"></script>
 *   <script>
 *     JumioPortal.verify({intakeUrl: '/jumio/intake', pollUrl: '/jumio/poll',
 *                         token: userJwt, container: '#jumio'})
 *       .then(function (answer) { ... answer.status, answer.decision ... },
 *             function (err) { ... err.code, err.message ... });
 *   </script>
 *
 * verify() POSTs the intake, shows the `link` in an iframe with the attributes Jumio's web
 * client needs, listens to the web client's postMessage events (only from the link's origin),
 * polls with backoff until the answer is `done` (paused while the page is hidden or left) and
 * resolves with that final poll answer. It dispatches DOM events on the container:
 *   jumio:loaded  {transactionReference}              the web client is shown
 *   jumio:status  {transactionReference, status}      a poll saw a new status (progress)
 *   jumio:success {transactionReference}              the user finished the web journey
 *   jumio:error   {transactionReference, code, message, status, source}
 *                 source "web-client": Jumio's error code (9100 ... 9836) and a sentence for
 *                 the user; "server": the module's error code (e.g. invalid_token); "kit":
 *                 network, timeout or aborted. The Promise is rejected with the same fields.
 *   jumio:result  the final poll answer {done, status, decision, data, transactionReference}
 * The web client's messages carry an authorization token: the kit never logs, stores or
 * passes it on; event details hold only the fields listed above.
 *
 * Options: intakeUrl, pollUrl, container (element or selector), token (a JWT, or a function
 * giving one or a Promise of one; omit it for JumioUserSource remote-user), credentials
 * (fetch credentials: 'same-origin' by default; 'include' for a remote-user module on another
 * origin), body (the intake's JSON body, default {}), timeout (ms polling may take in all,
 * default 45 minutes), pollFirst / pollMax (backoff, default 1000 / 5000 ms), signal (an
 * AbortSignal that cancels), frameTitle.
 */
(function (root) {
    'use strict';

    var FRAME_ALLOW = 'camera;autoplay;fullscreen;clipboard-read;clipboard-write;' +
        'accelerometer;gyroscope;magnetometer';
    var EVENT_STATE = 510;

    /* Jumio's web client error codes (postMessage metainfo.code and the errorUrl's
     * errorCode) in words a user understands. */
    var WEB_CLIENT_ERRORS = {
        9100: 'The verification service had a problem on its side. Please try again later.',
        9200: 'Your verification session is not valid any more. Please start the verification again.',
        9210: 'Your verification session expired before you finished. Please start the verification again.',
        9300: 'Your photo could not be sent. Please check your internet connection and try again.',
        9400: 'Something went wrong while your document was checked. Please try again.',
        9800: 'Your device lost its internet connection. Please reconnect and try again.',
        9801: 'The verification page ran into an unexpected problem. Please reload the page and try again.',
        9810: 'The verification page could not reach the verification service. Please check your connection and try again.',
        9820: 'No camera is available on this device and uploading photos is not allowed. Please use a device with a camera.',
        9821: 'The face scan did not work. Please try again in good light, looking straight at the camera.',
        9822: 'This browser cannot use the camera. Please try again in another browser or on your phone.',
        9835: 'None of your photos could be accepted after 3 attempts. Please try again with clear, sharp photos.',
        9836: 'We could not confirm that it is you. Please contact support if this keeps happening.'
    };

    /* The module's error codes, for the user (the module's own message is for developers). */
    var SERVER_ERRORS = {
        invalid_token: 'Your sign-in has expired. Please sign in again.',
        too_many_requests: 'You have started too many verifications. Please try again later.',
        cross_site_request: 'This page may not start a verification.',
        no_enrolment: 'Please verify your identity first: there is no verification on file to compare with.',
        not_found: 'This verification was not found. Please start again.',
        upstream_busy: 'The verification service is busy. Please try again in a moment.',
        network: 'The verification service could not be reached. Please check your connection and try again.',
        timeout: 'We did not get a result in time. Please check back later.',
        aborted: 'The verification was cancelled.'
    };
    var SERVER_DEFAULT = 'The verification could not be started. Please try again later.';

    /* The sentence for a web client error code, or for a module / kit error code. */
    function errorMessage(code) {
        if (WEB_CLIENT_ERRORS[code])
            return WEB_CLIENT_ERRORS[code];
        if (SERVER_ERRORS[code])
            return SERVER_ERRORS[code];
        if (/^9\d\d\d$/.test(String(code)))
            return 'The verification could not be completed (error ' + code + '). Please try again.';
        return SERVER_DEFAULT;
    }

    /* An Error carrying the fields of a jumio:error event. */
    function kitError(detail) {
        var e = new Error(detail.message);
        e.name = 'JumioPortalError';
        e.code = detail.code;
        e.status = detail.status;
        e.source = detail.source;
        e.transactionReference = detail.transactionReference;
        return e;
    }

    /* Seconds of a Retry-After header as milliseconds, or 0. */
    function retryAfterMs(res) {
        var v = res && res.headers.get('Retry-After');
        return v && /^\d+$/.test(v) ? Math.min(parseInt(v, 10), 3600) * 1000 : 0;
    }

    /* The JSON body of a response, or null. */
    function jsonOf(res) {
        return res.json().then(null, function () { return null; });
    }

    function verify(opts) {
        opts = opts || {};
        var container = typeof opts.container === 'string'
            ? document.querySelector(opts.container) : opts.container;
        if (!container || !opts.intakeUrl || !opts.pollUrl)
            return Promise.reject(new TypeError('JumioPortal.verify needs intakeUrl, pollUrl and container'));

        var pollFirst = opts.pollFirst || 1000, pollMax = opts.pollMax || 5000;
        var deadline = Date.now() + (opts.timeout || 45 * 60 * 1000);
        var credentials = opts.credentials || 'same-origin';
        var ref = null, linkOrigin = null, frame = null;
        var finished = false, paused = false, inFlight = false, timer = null, delay = pollFirst;
        var lastStatus = null, resolveFn, rejectFn;

        function emit(name, detail) {
            container.dispatchEvent(new CustomEvent('jumio:' + name, { detail: detail, bubbles: true }));
        }

        function headers(extra) {
            return Promise.resolve(typeof opts.token === 'function' ? opts.token() : opts.token)
                .then(function (token) {
                    var h = { Accept: 'application/json' };
                    if (token)
                        h.Authorization = 'Bearer ' + token;
                    for (var k in extra)
                        h[k] = extra[k];
                    return h;
                });
        }

        /* Stop everything: timers, listeners; settle the Promise once. */
        function finish(error, answer) {
            if (finished)
                return;
            finished = true;
            clearTimeout(timer);
            window.removeEventListener('message', onMessage);
            document.removeEventListener('visibilitychange', onVisibility);
            window.removeEventListener('pagehide', onPageHide);
            window.removeEventListener('pageshow', onPageShow);
            if (opts.signal)
                opts.signal.removeEventListener('abort', onAbort);
            if (error) {
                error.transactionReference = ref;
                emit('error', error);
                rejectFn(kitError(error));
            }
            else {
                emit('result', answer);
                resolveFn(answer);
            }
        }

        function fail(code, source, status, message) {
            finish({ transactionReference: ref, code: code, message: message || errorMessage(code),
                     status: status || null, source: source });
        }

        /* The next poll in ms (0: now), unless finished, paused or one is under way. */
        function schedule(ms) {
            clearTimeout(timer);
            timer = null;
            if (finished || paused || inFlight)
                return;
            if (Date.now() >= deadline)
                return fail('timeout', 'kit');
            timer = setTimeout(poll, ms);
        }

        function poll() {
            timer = null;
            if (finished || paused || inFlight)
                return;
            inFlight = true;
            headers({ 'X-Transaction-Reference': ref }).then(function (h) {
                return fetch(opts.pollUrl, { method: 'GET', headers: h, credentials: credentials,
                                             cache: 'no-store' });
            }).then(function (res) {
                return jsonOf(res).then(function (body) {
                    inFlight = false;
                    if (finished)
                        return;
                    if (res.ok && body && body.done)
                        return finish(null, body);
                    if (res.ok && body) {
                        if (body.status && body.status !== lastStatus) {
                            lastStatus = body.status;
                            emit('status', { transactionReference: ref, status: body.status });
                        }
                    }
                    else if (res.status === 401 || res.status === 403 || res.status === 404)
                        return fail(body && body.error || 'http_' + res.status, 'server', res.status);
                    var wait = Math.max(delay, retryAfterMs(res));
                    delay = Math.min(Math.round(delay * 1.5), pollMax);
                    schedule(wait);
                });
            }).then(null, function () {
                /* a network error while polling: try again later */
                inFlight = false;
                delay = Math.min(Math.round(delay * 1.5), pollMax);
                schedule(delay);
            });
        }

        /* The web client's postMessage events; anything not from the link's origin is ignored. */
        function onMessage(event) {
            if (finished || event.origin !== linkOrigin)
                return;
            var data = event.data;
            if (typeof data === 'string') {
                try {
                    data = JSON.parse(data);
                }
                catch (e) {
                    return;
                }
            }
            if (!data || typeof data !== 'object' || data.eventType !== EVENT_STATE || !data.payload)
                return;
            if (data.workflowExecutionId && data.workflowExecutionId !== ref)
                return; /* another transaction's web client */
            var value = data.payload.value;
            if (value === 'loaded')
                emit('loaded', { transactionReference: ref });
            else if (value === 'success') {
                emit('success', { transactionReference: ref });
                delay = pollFirst; /* the result comes soon now */
                schedule(0);
            }
            else if (value === 'error') {
                var code = data.payload.metainfo && data.payload.metainfo.code;
                fail(code === undefined || code === null ? 'web_client_error' : code, 'web-client');
            }
        }

        function onVisibility() {
            if (document.visibilityState === 'hidden')
                pause();
            else
                resume();
        }
        function onPageHide() {
            pause();
        }
        function onPageShow(event) {
            if (event.persisted)
                resume();
        }
        function pause() {
            paused = true;
            clearTimeout(timer);
            timer = null;
        }
        function resume() {
            if (!paused || finished)
                return;
            paused = false;
            if (ref)
                schedule(0);
        }
        function onAbort() {
            fail('aborted', 'kit');
        }

        var promise = new Promise(function (resolve, reject) {
            resolveFn = resolve;
            rejectFn = reject;
        });
        if (opts.signal) {
            if (opts.signal.aborted) {
                fail('aborted', 'kit');
                return promise;
            }
            opts.signal.addEventListener('abort', onAbort);
        }
        window.addEventListener('message', onMessage);
        document.addEventListener('visibilitychange', onVisibility);
        window.addEventListener('pagehide', onPageHide);
        window.addEventListener('pageshow', onPageShow);
        paused = document.visibilityState === 'hidden';

        headers({ 'Content-Type': 'application/json' }).then(function (h) {
            return fetch(opts.intakeUrl, { method: 'POST', headers: h, credentials: credentials,
                                           cache: 'no-store', body: JSON.stringify(opts.body || {}) });
        }).then(function (res) {
            return jsonOf(res).then(function (body) {
                if (finished)
                    return;
                if (!res.ok || !body || !body.link || !body.transactionReference) {
                    var code = body && body.error || 'http_' + res.status;
                    return fail(code, 'server', res.status);
                }
                ref = body.transactionReference;
                try {
                    linkOrigin = new URL(body.link, location.href).origin;
                }
                catch (e) {
                    return fail('bad_link', 'kit', null, SERVER_DEFAULT);
                }
                frame = document.createElement('iframe');
                frame.setAttribute('allow', FRAME_ALLOW);
                frame.setAttribute('allowfullscreen', '');
                frame.setAttribute('title', opts.frameTitle || 'Identity verification');
                frame.className = 'jumio-portal-frame';
                frame.src = body.link;
                container.appendChild(frame);
                schedule(delay);
            });
        }).then(null, function () {
            fail('network', 'kit');
        });
        return promise;
    }

    root.JumioPortal = {
        verify: verify,
        errorMessage: errorMessage,
        WEB_CLIENT_ERRORS: WEB_CLIENT_ERRORS,
        FRAME_ALLOW: FRAME_ALLOW
    };
})(window);
