'use strict';
/* Shared helpers of the mobile pages: GraphQL over fetch, messages, saved items.
   OPS (set by the server before this script) holds the page's operations from the
   persisted-query manifest: name -> {id: sha256 of the text, query: the text}. */
var S = (function () {
  function $(id) { return document.getElementById(id); }
  function show(el, on) { if (typeof el === 'string') el = $(el); if (on === false) el.setAttribute('hidden', ''); else el.removeAttribute('hidden'); return el; }
  function hide(el) { return show(el, false); }
  function say(id, message) { var el = $(id); el.textContent = message; show(el, !!message); return el; }
  // Server messages read "中文 (english)": the Chinese part is for citizens.
  function clean(message) {
    var m = String(message || '').trim();
    var stripped = m.replace(/\s*\([\x20-\x7e]*\)\s*$/, '');
    return stripped || m;
  }
  function failure(message, code, field) { var e = new Error(message); e.code = code || null; e.field = field || null; return e; }
  // One idempotency key per submission: a retry of the same submission reuses it, so
  // the server answers the first result instead of creating a second item.
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
  }
  // Apollo's automatic persisted queries: the hash alone first; the text too only
  // when the server does not know the hash yet.
  async function once(name, variables, key, withText) {
    var response, body, op = OPS[name];
    var headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    if (key) headers['Idempotency-Key'] = key;
    var request = {
      operationName: name,
      variables: variables || {},
      extensions: { persistedQuery: { version: 1, sha256Hash: op.id } }
    };
    if (withText) request.query = op.query;
    try {
      response = await fetch('/graphql', {
        method: 'POST',
        headers: headers,
        credentials: 'omit',
        body: JSON.stringify(request)
      });
    } catch (e) {
      throw failure('网络连接失败，请检查网络后重试。', 'NETWORK');
    }
    try { body = await response.json(); } catch (e) {
      throw failure('服务暂时不可用（' + response.status + '），请稍后再试。', 'HTTP');
    }
    if (body.errors && body.errors.length) {
      var first = body.errors[0], ext = first.extensions || {};
      if (ext.code === 'PERSISTED_QUERY_NOT_FOUND' && !withText) return once(name, variables, key, true);
      throw failure(clean(first.message) || '操作失败，请稍后再试。', ext.code, ext.field);
    }
    if (!body.data) throw failure('服务暂时不可用，请稍后再试。', 'HTTP');
    return body.data;
  }
  // CONFLICT means nothing was written (a concurrent write won): safe to try again.
  // With an idempotency key a lost connection is safe to retry too (same key).
  async function gql(name, variables, retries, key) {
    for (var attempt = 0; ; attempt++) {
      try { return await once(name, variables, key, false); } catch (e) {
        var retriable = e.code === 'CONFLICT' || (key && (e.code === 'NETWORK' || e.code === 'HTTP'));
        if (!retriable || attempt >= (retries || 0)) throw e;
        await new Promise(function (done) { setTimeout(done, 300 * (attempt + 1)); });
      }
    }
  }
  // Saved items (tracking code + follow secret), newest first, on this device only.
  var KEY = 'snpc.items';
  function items() {
    try { var v = JSON.parse(localStorage.getItem(KEY) || '[]'); return Array.isArray(v) ? v : []; } catch (e) { return []; }
  }
  function save(list) { try { localStorage.setItem(KEY, JSON.stringify(list.slice(0, 20))); } catch (e) { /* private mode */ } }
  function remember(code, secret, title) {
    var old = find(code) || {};
    var list = items().filter(function (i) { return i.c !== code; });
    list.unshift({ c: code, s: secret || old.s || null, t: title || old.t || '', d: old.d || new Date().toISOString() });
    save(list);
  }
  function find(code) { return items().filter(function (i) { return i.c === code; })[0] || null; }
  function forgetSecret(code) {
    save(items().map(function (i) { if (i.c === code) i.s = null; return i; }));
  }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  function lastSegment() {
    var parts = location.pathname.split('/').filter(function (p) { return p; });
    try { return decodeURIComponent(parts[2] || ''); } catch (e) { return ''; }
  }
  return { $: $, show: show, hide: hide, say: say, clean: clean, gql: gql, newKey: newKey, items: items, remember: remember, find: find, forgetSecret: forgetSecret, when: when, lastSegment: lastSegment };
})();
