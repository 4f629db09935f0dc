// The supervision dashboard (/dashboard): a client of the public GraphQL API like any
// other. It sends only the operations embedded in the page (assets/operations/dashboard/),
// over /graphql and /graphql/ws (graphql-transport-ws, with the vendored graphql-ws
// client), and keeps its place in the alert stream with `after` (README, "Live updates").
'use strict';
(() => {
  const OPERATIONS = JSON.parse(document.getElementById('operations').textContent);
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- sending operations
  // The one place that decides how an operation travels: by its persisted-query id
  // (sha256 of the file) with its text beside it, so the page works whether or not the
  // gateway knows the id already.
  function operation(name, variables) {
    const op = OPERATIONS[name];
    if (!op) throw new Error(`unknown operation ${name}`);
    return {
      operationName: name,
      query: op.query,
      variables: variables || {},
      extensions: { persistedQuery: { version: 1, sha256Hash: op.id } },
    };
  }

  class ApiError extends Error {
    constructor(code, message, reason) {
      super(message);
      this.code = code;
      this.reason = reason;
    }
  }

  let skew = 0; // server clock minus ours (ms), from the Date header

  async function post(name, variables, token) {
    const headers = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
    };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch('/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify(operation(name, variables)),
    });
    const served = Date.parse(response.headers.get('date') || '');
    if (!Number.isNaN(served)) skew = served - Date.now();
    let body;
    try {
      body = await response.json();
    } catch {
      throw new ApiError('BAD_RESPONSE', `HTTP ${response.status}`);
    }
    if (body.errors && body.errors.length && !body.data) {
      const e = body.errors[0];
      throw new ApiError(e.extensions && e.extensions.code, e.message, e.extensions && e.extensions.reason);
    }
    return body.data;
  }

  // ------------------------------------------------------------------------ session
  const SESSION_KEY = 'smart-npc-dashboard-session';
  let session = null; // { accessToken, refreshToken, account, refreshAt }
  let refreshTimer = 0;
  let refreshing = null;

  function adopt(auth) {
    const lifetime = Date.parse(auth.accessTokenExpiresAt) - (Date.now() + skew);
    session = {
      accessToken: auth.accessToken,
      refreshToken: auth.refreshToken,
      account: auth.account,
      // Well before expiry: a quarter of the lifetime is left for a slow or failed try.
      refreshAt: Date.now() + Math.max(5_000, lifetime * 0.75),
    };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    scheduleRefresh(session.refreshAt - Date.now());
  }

  function scheduleRefresh(inMs) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => refresh().catch(() => {}), Math.max(0, inMs));
  }

  // One refresh at a time (each refresh token works once).
  function refresh() {
    if (!refreshing) {
      refreshing = (async () => {
        try {
          const data = await post('DashboardRefresh', { refreshToken: session.refreshToken });
          adopt(data.refreshSession);
        } catch (e) {
          if (e.code === 'UNAUTHENTICATED') signedOut('登录已失效，请重新登录');
          else scheduleRefresh(5_000); // the gateway is away (a restart): try again soon
          throw e;
        } finally {
          refreshing = null;
        }
      })();
    }
    return refreshing;
  }

  async function accessToken() {
    if (!session) throw new ApiError('UNAUTHENTICATED', '未登录');
    if (Date.now() >= session.refreshAt) await refresh();
    return session.accessToken;
  }

  async function gql(name, variables) {
    try {
      return await post(name, variables, await accessToken());
    } catch (e) {
      if (e.code === 'UNAUTHENTICATED' && session && e.reason === 'TOKEN_EXPIRED') {
        await refresh();
        return post(name, variables, session.accessToken);
      }
      throw e;
    }
  }

  // ----------------------------------------------------------------------- WebSocket
  let client = null;

  function setLive(state) {
    const el = $('live-status');
    el.dataset.state = state;
    el.textContent = { connecting: '连接中…', live: '● 实时', reconnecting: '重连中…' }[state];
  }

  function openClient() {
    const url = new URL('/graphql/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return graphqlWs.createClient({
      url: url.href,
      keepAlive: 10_000,
      retryAttempts: Infinity, // through a restart or a deploy
      retryWait: (retries) =>
        new Promise((resolve) =>
          setTimeout(resolve, Math.min(500 * 2 ** retries, 10_000) * (0.5 + Math.random())),
        ),
      // Read on every (re)connect. Never throws: a throw here would end the client for
      // good; an old token is refused with 4403 and the next attempt brings a new one.
      connectionParams: async () => {
        try {
          return { token: await accessToken() };
        } catch {
          return session ? { token: session.accessToken } : {};
        }
      },
      on: {
        connecting: () => setLive(client ? 'reconnecting' : 'connecting'),
        connected: () => {
          const el = $('live-status');
          el.dataset.connections = String(Number(el.dataset.connections || 0) + 1);
          setLive('live');
        },
        closed: () => setLive('reconnecting'),
      },
    });
  }

  /** Subscribes; `onEvent(data, payload)` runs first thing on each event. */
  function subscribe(name, variables, onEvent) {
    const payload = operation(name, variables);
    const sub = { payload, dispose: null, stopped: false };
    const start = () => {
      sub.dispose = client.subscribe(payload, {
        next: (result) => {
          if (result.errors && result.errors.length) return problem(name, result.errors[0].message);
          onEvent(result.data, payload);
        },
        // The gateway refused or ended the operation: show it and subscribe again
        // later with the same payload (so `after` still holds the last cursor).
        error: (e) => {
          problem(name, Array.isArray(e) ? e[0].message : e && e.reason ? `连接关闭 ${e.code}` : String(e));
          if (!sub.stopped) setTimeout(() => !sub.stopped && start(), 5_000);
        },
        complete: () => {
          if (!sub.stopped) setTimeout(() => !sub.stopped && start(), 5_000);
        },
      });
    };
    start();
    return {
      payload,
      stop: () => {
        sub.stopped = true;
        if (sub.dispose) sub.dispose();
      },
    };
  }

  function problem(what, message) {
    console.warn(`${what}: ${message}`);
  }

  // ------------------------------------------------------------------ scope and time
  const now = () => new Date(Date.now() + skew);
  function chinaToday() {
    // YYYY-MM-DD in China time (the gateway's calendar).
    return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(now());
  }
  const thisYear = () => Number(chinaToday().slice(0, 4));
  const thisMonth = () => Number(chinaToday().slice(5, 7));
  const pad = (n) => String(n).padStart(2, '0');
  const lastDay = (y, m) => new Date(Date.UTC(y, m, 0)).getUTCDate();

  let org = { townships: [], stations: [] };
  let scopes = [];
  let scope = null;
  let year = 0;

  async function loadOrganisation() {
    const stations = [];
    let townships = [];
    let after = null;
    for (;;) {
      const data = await gql('DashboardOrganisation', { after });
      townships = data.townships.nodes;
      stations.push(...data.stations.nodes);
      if (!data.stations.pageInfo.hasNextPage) break;
      after = data.stations.pageInfo.endCursor;
    }
    return { townships, stations };
  }

  function scopesFor(account) {
    const roles = account.roles || [];
    const county = roles.some((r) => r.role === 'ADMIN' || (r.role === 'SUPERVISOR' && !r.township));
    const townships = county
      ? org.townships
      : roles.filter((r) => r.role === 'SUPERVISOR' && r.township).map((r) => r.township);
    const list = [];
    if (county) list.push({ key: 'county', label: '全县', vars: {} });
    for (const t of townships) {
      list.push({ key: `t:${t.id}`, label: t.name, vars: { townshipId: t.id }, township: t.id });
      for (const s of org.stations.filter((s) => s.township && s.township.id === t.id)) {
        list.push({ key: `s:${s.id}`, label: `　${s.name}`, vars: { stationId: s.id }, township: t.id, station: s.id });
      }
    }
    for (const r of roles.filter((r) => r.role === 'STATION_STAFF' && r.station)) {
      if (list.some((x) => x.key === `s:${r.station.id}`)) continue;
      const t = r.station.township;
      list.push({ key: `s:${r.station.id}`, label: r.station.name, vars: { stationId: r.station.id }, township: t && t.id, station: r.station.id });
    }
    return list;
  }

  function period(y) {
    return y === thisYear() ? { from: `${y}-01-01`, to: null } : { from: `${y}-01-01`, to: `${y}-12-31` };
  }

  // ------------------------------------------------------------------------ figures
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  let figuresSub = null;
  let chartTimer = 0;

  function resetFigures() {
    const section = $('figures');
    section.dataset.updates = '0';
    section.dataset.scope = scope.key;
    section.dataset.year = String(year);
    for (const el of section.querySelectorAll('[data-figure]')) {
      el.textContent = '–';
      delete el.dataset.value;
    }
  }

  function showFigures(stats) {
    const section = $('figures');
    for (const el of section.querySelectorAll('[data-figure]')) {
      const value = stats[el.dataset.figure];
      if (el.dataset.value === String(value)) continue;
      const first = el.dataset.value === undefined;
      el.dataset.value = String(value);
      el.textContent = el.hasAttribute('data-rate') ? pct(value) : value.toLocaleString('zh-CN');
      if (!first) {
        el.classList.remove('changed');
        void el.offsetWidth; // restart the animation
        el.classList.add('changed');
      }
    }
    section.dataset.updates = String(Number(section.dataset.updates) + 1);
    categoryChart(stats.byCategory);
    clearTimeout(chartTimer);
    chartTimer = setTimeout(() => refreshCharts().catch((e) => problem('charts', e.message)), 600);
  }

  // ------------------------------------------------------------------------- charts
  const charts = {};
  const TEXT = '#e8f1ff';
  const MUTED = '#8fb0da';

  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init($(id), null, { renderer: 'canvas' });
    return charts[id];
  }

  function base() {
    const size = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    return {
      backgroundColor: 'transparent',
      textStyle: { color: TEXT, fontSize: size * 0.8 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis' },
      legend: { textStyle: { color: TEXT, fontSize: size * 0.8 }, top: 0 },
      animationDuration: 400,
    };
  }
  const axis = (data, extra) => ({
    type: 'category', data, axisLabel: { color: MUTED, ...extra }, axisLine: { lineStyle: { color: '#1d4a8a' } },
  });
  const value = (extra) => ({ type: 'value', axisLabel: { color: MUTED }, splitLine: { lineStyle: { color: '#16335f' } }, ...extra });

  function categoryChart(byCategory) {
    const rows = [...byCategory].sort((a, b) => a.itemsCollected - b.itemsCollected);
    chart('chart-category').setOption({
      ...base(),
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      xAxis: value(),
      yAxis: axis(rows.map((r) => (r.category ? r.category.name : '未分类')), { interval: 0 }),
      series: [
        { name: '收集', type: 'bar', data: rows.map((r) => r.itemsCollected), itemStyle: { color: '#3fc1ff' } },
        { name: '办结', type: 'bar', data: rows.map((r) => r.itemsCompleted), itemStyle: { color: '#39d98a' } },
      ],
    }, true);
  }

  let chartsGeneration = 0;

  async function refreshCharts() {
    const generation = ++chartsGeneration;
    const y = year;
    const months = y === thisYear() ? thisMonth() : 12;
    const today = chinaToday();
    const monthly = await Promise.all(
      Array.from({ length: months }, (_, i) => {
        const m = i + 1;
        const to = `${y}-${pad(m)}-${pad(lastDay(y, m))}`;
        return gql('DashboardFigures', { from: `${y}-${pad(m)}-01`, to: to > today ? today : to, ...scope.vars });
      }),
    );
    const places = placesOf(scope);
    const yearTo = y === thisYear() ? today : `${y}-12-31`;
    const placeFigures = await Promise.all(
      places.map((p) => gql('DashboardFigures', { from: `${y}-01-01`, to: yearTo, ...p.vars })),
    );
    if (generation !== chartsGeneration) return; // the scope or year changed meanwhile
    const labels = monthly.map((_, i) => `${i + 1}月`);
    chart('chart-monthly').setOption({
      ...base(),
      xAxis: axis(labels),
      yAxis: value(),
      series: [
        { name: '收集', type: 'bar', data: monthly.map((d) => d.statistics.itemsCollected), itemStyle: { color: '#3fc1ff' } },
        { name: '办结', type: 'bar', data: monthly.map((d) => d.statistics.itemsCompleted), itemStyle: { color: '#39d98a' } },
      ],
    }, true);
    chart('chart-satisfaction').setOption({
      ...base(),
      tooltip: { trigger: 'axis', valueFormatter: (v) => (v == null ? '无评价' : `${v}%`) },
      xAxis: axis(labels),
      yAxis: value({ min: (v) => Math.max(0, Math.floor(v.min / 10) * 10), max: 100, axisLabel: { color: MUTED, formatter: '{value}%' } }),
      series: [{
        name: '满意率', type: 'line', smooth: true, connectNulls: true,
        data: monthly.map((d) => (d.statistics.rated ? +(d.statistics.satisfactionRate * 100).toFixed(1) : null)),
        itemStyle: { color: '#ffb547' }, areaStyle: { color: 'rgba(255,181,71,0.15)' },
      }],
    }, true);
    $('places-title').textContent = scope.key === 'county' ? '按乡镇' : '按站点';
    chart('chart-places').setOption({
      ...base(),
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      xAxis: axis(places.map((p) => p.label), { interval: 0, rotate: places.length > 6 ? 30 : 0 }),
      yAxis: value(),
      series: [
        { name: '收集', type: 'bar', itemStyle: { color: '#3fc1ff' }, data: placeFigures.map((d, i) => ({ value: d.statistics.itemsCollected, itemStyle: places[i].current ? { color: '#ffb547' } : undefined })) },
        { name: '办结', type: 'bar', data: placeFigures.map((d) => d.statistics.itemsCompleted), itemStyle: { color: '#7be3b5' } },
      ],
    }, true);
    document.body.dataset.chartsYear = String(y);
  }

  /** County: its townships; a township: its stations; a station: its township's stations. */
  function placesOf(s) {
    if (s.key === 'county') return org.townships.map((t) => ({ label: t.name, vars: { townshipId: t.id } }));
    const t = s.township;
    return org.stations
      .filter((st) => st.township && st.township.id === t && st.kind !== 'SERVICE_POST')
      .map((st) => ({ label: st.name.replace(/人大代表|联络站|服务点/g, ''), vars: { stationId: st.id }, current: st.id === s.station }));
  }

  // ------------------------------------------------------------------------- alerts
  const ALERT_KINDS = {
    overdue: '超期', urged: '督办', escalated: '升级督办', rated_unsatisfied: '不满意', returned: '退回',
  };
  const ACTIONS = {
    submit: '提交', register: '登记建账', decline: '不予受理', merge: '合并', resolve_on_spot: '现场办结',
    forward: '转办', escalate: '上报', accept: '承接', return: '退回', add_progress: '办理进展',
    report_assist: '协办反馈', complete: '办结反馈', rate_satisfied: '评价：满意',
    rate_basically_satisfied: '评价：基本满意', rate_unsatisfied: '评价：不满意', auto_close: '自动办结',
    urge: '督办', mark_overdue: '超期', escalate_supervision: '升级督办',
  };
  const STATES = {
    SUBMITTED: '已收集', REGISTERED: '已建账', FORWARDED: '已转办', ACCEPTED: '办理中', RESOLVED: '已反馈',
    CLOSED: '已办结', DECLINED: '不予受理', MERGED: '已合并',
  };
  const KEEP_ALERTS = 200;
  let alertsSub = null;
  const titles = new Map();

  const alertsKey = () => `smart-npc-dashboard-alerts:${session.account.login}:${scope.key}`;
  const time = (iso) => new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });

  function placeName(a) {
    const st = org.stations.find((s) => s.id === a.stationId);
    const t = org.townships.find((x) => x.id === a.townshipId);
    return [t && t.name, st && st.name].filter(Boolean).join(' · ');
  }

  function renderAlert(a, fresh) {
    const li = document.createElement('li');
    li.dataset.seq = String(a.seq);
    li.dataset.kind = a.kind;
    if (fresh) li.className = 'fresh';
    const button = document.createElement('button');
    button.type = 'button';
    const kind = document.createElement('span');
    kind.className = `kind kind-${a.kind}`;
    kind.textContent = ALERT_KINDS[a.kind] || a.kind;
    const title = document.createElement('span');
    title.className = 'title';
    title.textContent = '事项';
    const where = document.createElement('span');
    where.className = 'where';
    const when = new Date(a.occurredAt).toLocaleString('zh-CN', {
      timeZone: 'Asia/Shanghai', hour12: false, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit',
    });
    where.textContent = `${placeName(a)}　${when}`;
    button.append(kind, title, where);
    if (a.petitionId) {
      button.addEventListener('click', () => openDetail(a.petitionId));
      titleOf(a.petitionId).then((t) => { title.textContent = t; }, () => {});
    }
    li.append(button);
    const list = $('alert-list');
    list.prepend(li);
    while (list.children.length > KEEP_ALERTS) list.lastElementChild.remove();
    $('alerts-empty').hidden = true;
    const dot = document.querySelector(`#map [data-station-id="${CSS.escape(a.stationId || '')}"]`);
    if (dot && fresh) dot.classList.add('alerted');
  }

  function titleOf(id) {
    if (!titles.has(id)) {
      titles.set(id, gql('DashboardPetition', { id }).then((d) => (d.node ? d.node.title : '事项')));
    }
    return titles.get(id);
  }

  function startAlerts(afterParam) {
    const saved = JSON.parse(localStorage.getItem(alertsKey()) || 'null') || { cursor: null, items: [], since: new Date().toISOString() };
    // `?after=<cursor>` (a link into the stream): the alerts after that cursor.
    if (afterParam) Object.assign(saved, { cursor: afterParam, items: [], since: null });
    localStorage.setItem(alertsKey(), JSON.stringify(saved));
    $('alert-list').replaceChildren();
    $('alerts-empty').hidden = false;
    $('alerts-since').textContent = saved.since ? `自 ${time(saved.since)} 起` : '';
    for (const a of saved.items) renderAlert(a, false);
    alertsSub = subscribe('DashboardAlerts', { after: saved.cursor, ...scope.vars }, (data, payload) => {
      const a = data.supervisionAlerts;
      // First thing: a reconnect sends this payload again and must resume after it.
      payload.variables.after = a.cursor;
      saved.cursor = a.cursor;
      saved.items = [...saved.items, a].slice(-50);
      localStorage.setItem(alertsKey(), JSON.stringify(saved));
      renderAlert(a, true);
    });
  }

  // ------------------------------------------------------------------ item details
  async function openDetail(id) {
    const dialog = $('detail');
    const body = $('detail-body');
    body.textContent = '加载中…';
    if (!dialog.open) dialog.showModal();
    let p;
    try {
      p = (await gql('DashboardPetition', { id })).node;
    } catch (e) {
      body.textContent = `无法加载：${e.message}`;
      return;
    }
    if (!p) {
      body.textContent = '未找到该事项或无权查看';
      return;
    }
    $('detail-title').textContent = p.title;
    const facts = [
      ['查询码', p.trackingCode], ['状态', STATES[p.state] || p.state],
      ['站点', [p.township && p.township.name, p.station && p.station.name].filter(Boolean).join(' · ')],
      ['类别', p.category && p.category.name], ['紧急程度', { NORMAL: '一般', URGENT: '紧急', CRITICAL: '特急' }[p.urgency]],
      ['主办部门', p.leadDepartment && p.leadDepartment.name],
      ['办理时限', p.deadline ? `${time(p.deadline)}${p.isOverdue ? '（已超期）' : ''}` : '—'],
      ['督办次数', p.urgeCount], ['升级督办', p.escalationLevel], ['办理轮次', p.round], ['收集时间', time(p.collectedAt)],
    ];
    const dl = document.createElement('dl');
    for (const [k, v] of facts) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v == null || v === '' ? '—' : String(v);
      dl.append(dt, dd);
    }
    const content = document.createElement('p');
    content.textContent = p.content;
    const table = document.createElement('table');
    table.innerHTML = '<thead><tr><th>部门</th><th>角色</th><th>状态</th><th>转办时间</th><th>反馈</th></tr></thead>';
    const tbody = document.createElement('tbody');
    for (const d of p.departments) {
      const tr = document.createElement('tr');
      for (const cell of [
        d.department && d.department.name, d.role === 'LEAD' ? '主办' : '协办',
        { FORWARDED: '已转办', ACCEPTED: '已承接', RETURNED: '已退回', REPORTED: '已反馈' }[d.status] || d.status,
        time(d.forwardedAt), d.report || d.returnReason || '',
      ]) {
        const td = document.createElement('td');
        td.textContent = cell || '';
        tr.append(td);
      }
      tbody.append(tr);
    }
    table.append(tbody);
    const timeline = document.createElement('ol');
    timeline.className = 'timeline';
    for (const e of p.timeline) {
      const li = document.createElement('li');
      const when = document.createElement('time');
      when.textContent = time(e.at);
      const what = document.createElement('span');
      what.textContent = [ACTIONS[e.action] || e.action, e.department && e.department.name, e.note].filter(Boolean).join('　');
      li.append(when, what);
      timeline.append(li);
    }
    const h3a = document.createElement('h3');
    h3a.textContent = '承办部门';
    const h3b = document.createElement('h3');
    h3b.textContent = '办理过程';
    body.replaceChildren(dl, content, h3a, table, h3b, timeline);
  }

  // ------------------------------------------------------ compliance and coverage
  const DUTIES = {
    RECEIVE_CITIZENS: '接待选民', REPORT_OPINION: '反映民意', STATION_ACTIVITY: '进站活动', STUDY_TRAINING: '学习培训',
    SENTIMENT_DIARY: '民情日志', LIVELIHOOD_PROJECT: '民生实事', DUTY_STORY: '履职故事', DUTY_REPORT: '述职交流',
  };
  const GAPS = {
    MEMBER_TOO_FEW: '联系基层代表少于5名', MEMBER_TOO_MANY: '联系基层代表多于8名',
    LEADER_TOWNSHIPS: '包联乡镇不足2个', LEADER_VISITS: '本月进站不足2次',
  };

  /** Whose rollup: the scope itself, or for the county each township (summed). */
  async function rollups(y, m) {
    if (scope.key !== 'county') {
      const data = await gql('DashboardComplianceRollup', { year: y, month: m, ...scope.vars });
      return [{ label: scope.label.trim(), ...data.complianceRollup }];
    }
    return Promise.all(org.townships.map(async (t) => {
      const data = await gql('DashboardComplianceRollup', { year: y, month: m, townshipId: t.id });
      return { label: t.name, ...data.complianceRollup };
    }));
  }

  async function loadCompliance() {
    const box = $('compliance');
    const [y, m] = [thisYear(), thisMonth()];
    const shownScope = scope;
    $('compliance-title').textContent = `"八个一"履职达标（${y}年${m}月）`;
    let parts;
    let deputies = null;
    try {
      parts = await rollups(y, m);
      if (scope.key !== 'county') {
        deputies = (await gql('DashboardDeputyCompliance', { year: y, month: m, ...scope.vars })).deputies;
      }
    } catch (e) {
      box.textContent = `无法加载：${e.message}`;
      return;
    }
    if (shownScope !== scope) return;
    const total = parts.reduce((n, r) => n + r.deputies, 0);
    const compliant = parts.reduce((n, r) => n + r.fullyCompliant, 0);
    const share = document.createElement('div');
    share.className = 'share';
    share.dataset.share = String(total ? compliant / total : 0);
    share.textContent = pct(total ? compliant / total : 0);
    const summary = document.createElement('div');
    summary.textContent = `${total} 名代表中 ${compliant} 名全部达标`;
    const list = document.createElement('ul');
    if (!deputies) {
      for (const r of parts) {
        const li = document.createElement('li');
        const detail = document.createElement('span');
        detail.className = 'missing';
        detail.textContent = `　${pct(r.share)}（${r.fullyCompliant}/${r.deputies}）`;
        li.append(r.label, detail);
        list.append(li);
      }
    } else {
      for (const d of deputies.nodes.filter((d) => d.compliance && !d.compliance.fullyCompliant)) {
        const li = document.createElement('li');
        const missing = document.createElement('span');
        missing.className = 'missing';
        missing.textContent = `　未完成：${d.compliance.missing.map((x) => DUTIES[x] || x).join('、')}`;
        li.append(d.name, missing);
        list.append(li);
      }
    }
    const shown = [share, summary, list];
    if (deputies && deputies.totalCount > deputies.nodes.length) {
      const more = document.createElement('small');
      more.textContent = `（列出前 ${deputies.nodes.length} 名代表中的未达标者）`;
      shown.push(more);
    }
    box.replaceChildren(...shown);
  }

  async function loadCoverage() {
    const box = $('coverage');
    const supervises = session.account.roles.some((r) => r.role === 'SUPERVISOR' || r.role === 'ADMIN');
    if (!supervises) {
      box.textContent = '由县人大常委会监督账号查看';
      return;
    }
    let data;
    try {
      data = await gql('DashboardCoverage', { year: thisYear(), month: thisMonth() });
    } catch (e) {
      box.textContent = `无法加载：${e.message}`;
      return;
    }
    const township = scope.township && org.townships.find((t) => t.id === scope.township);
    const gaps = data.coverageReport.filter(
      (g) => !township || (g.deputy.township && g.deputy.township.name === township.name),
    );
    if (!gaps.length) {
      box.textContent = '本月结对覆盖符合要求';
      return;
    }
    const list = document.createElement('ul');
    for (const g of gaps) {
      const li = document.createElement('li');
      li.dataset.kind = g.kind;
      const rule = document.createElement('span');
      rule.className = 'rule';
      rule.textContent = `　${GAPS[g.kind] || g.kind}（实际 ${g.actual}，要求 ${g.expected}）`;
      li.append(g.deputy.name, rule);
      list.append(li);
    }
    const count = document.createElement('div');
    count.textContent = `共 ${gaps.length} 处缺口`;
    box.replaceChildren(count, list);
  }

  // ---------------------------------------------------------------------------- map
  // Stations have no coordinates yet: townships are drawn as a schematic grid with
  // their stations inside. A station that carries `longitude`/`latitude` (once the API
  // has them) is plotted by position instead, inside Heshun's bounding box.
  const SVG = 'http://www.w3.org/2000/svg';
  const HESHUN = { west: 113.1, east: 113.9, south: 37.1, north: 37.6 };
  const W = 1000;
  const H = 400;

  function svg(tag, attrs, text) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text != null) el.textContent = text;
    return el;
  }

  function project(station) {
    if (typeof station.longitude !== 'number' || typeof station.latitude !== 'number') return null;
    return {
      x: ((station.longitude - HESHUN.west) / (HESHUN.east - HESHUN.west)) * W,
      y: ((HESHUN.north - station.latitude) / (HESHUN.north - HESHUN.south)) * H,
    };
  }

  function drawMap() {
    const map = $('map');
    map.setAttribute('viewBox', `0 0 ${W} ${H}`);
    const parts = [];
    const ts = org.townships;
    const cols = Math.max(1, Math.ceil(Math.sqrt(ts.length * (W / H))));
    const rows = Math.max(1, Math.ceil(ts.length / cols));
    const cw = W / cols;
    const ch = H / rows;
    ts.forEach((t, i) => {
      const x = (i % cols) * cw;
      const y = Math.floor(i / cols) * ch;
      const current = scope.township === t.id;
      parts.push(svg('rect', { x: x + 4, y: y + 4, width: cw - 8, height: ch - 8, rx: 10, class: `township${current ? ' current' : ''}`, 'data-township-id': t.id }));
      parts.push(svg('text', { x: x + 14, y: y + 30 }, t.name));
      const mine = org.stations.filter((s) => s.township && s.township.id === t.id);
      const per = Math.max(1, Math.ceil(Math.sqrt(mine.length * (cw / (ch - 30)))));
      mine.forEach((s, j) => {
        const placed = project(s) || {
          x: x + 20 + ((j % per) + 0.5) * ((cw - 40) / per),
          y: y + 42 + (Math.floor(j / per) + 0.5) * ((ch - 54) / Math.ceil(mine.length / per)),
        };
        const dot = svg('circle', {
          cx: placed.x, cy: placed.y, r: s.kind === 'LIAISON_STATION' || s.kind === 'DEMONSTRATION_BASE' ? 9 : 6,
          class: `station${scope.station === s.id ? ' current' : ''}`, 'data-station-id': s.id,
        });
        dot.append(svg('title', {}, s.name));
        dot.addEventListener('click', () => {
          if (scopes.some((x) => x.key === `s:${s.id}`)) chooseScope(`s:${s.id}`);
        });
        parts.push(dot);
      });
    });
    map.replaceChildren(...parts);
  }

  // ------------------------------------------------------------------------- wiring
  let complianceTimer = 0;

  function chooseScope(key, afterParam) {
    scope = scopes.find((s) => s.key === key) || scopes[0];
    $('scope').value = scope.key;
    if (alertsSub) alertsSub.stop();
    startAlerts(afterParam);
    followFigures();
    drawMap();
    loadCompliance();
    loadCoverage();
    clearInterval(complianceTimer);
    complianceTimer = setInterval(() => { loadCompliance(); loadCoverage(); }, 5 * 60_000);
  }

  /** The headline figures of the scope and year, live; the charts follow them. */
  function followFigures() {
    const url = new URL(location.href);
    url.searchParams.set('scope', scope.key);
    url.searchParams.set('year', String(year));
    url.searchParams.delete('after');
    history.replaceState(null, '', url);
    if (figuresSub) figuresSub.stop();
    chartsGeneration += 1;
    resetFigures();
    figuresSub = subscribe('DashboardLiveFigures', { ...period(year), ...scope.vars }, (data) => showFigures(data.liveStatistics));
  }

  function allowed(account) {
    return account.roles.some((r) => ['ADMIN', 'SUPERVISOR', 'STATION_STAFF'].includes(r.role));
  }

  async function start() {
    if (!allowed(session.account)) {
      signedOut('此账号不能查看监督看板（需人大监督或站点工作人员账号）');
      return;
    }
    $('signin').hidden = true;
    $('board').hidden = false;
    $('who').textContent = session.account.displayName;
    try {
      org = await loadOrganisation();
    } catch (e) {
      if (session) $('who').textContent = `无法加载组织信息：${e.message}`;
      return;
    }
    scopes = scopesFor(session.account);
    $('scope').replaceChildren(...scopes.map((s) => new Option(s.label, s.key)));
    const params = new URLSearchParams(location.search);
    const wanted = Number(params.get('year'));
    const y0 = thisYear();
    year = wanted >= y0 - 5 && wanted <= y0 ? wanted : y0;
    $('year').replaceChildren(...Array.from({ length: 4 }, (_, i) => y0 - i).map((y) => new Option(`${y}年`, String(y))));
    if (![...$('year').options].some((o) => o.value === String(year))) $('year').append(new Option(`${year}年`, String(year)));
    $('year').value = String(year);
    if (!client) client = openClient();
    chooseScope(params.get('scope') || scopes[0].key, params.get('after'));
  }

  function signedOut(message) {
    clearTimeout(refreshTimer);
    clearInterval(complianceTimer);
    if (figuresSub) figuresSub.stop();
    if (alertsSub) alertsSub.stop();
    if (client) client.dispose();
    client = null;
    session = null;
    sessionStorage.removeItem(SESSION_KEY);
    $('board').hidden = true;
    $('signin').hidden = false;
    $('signin-error').textContent = message || '';
  }

  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = $('signin-button');
    button.disabled = true;
    $('signin-error').textContent = '';
    try {
      const data = await post('DashboardSignIn', { login: $('login').value.trim(), password: $('password').value });
      $('password').value = '';
      adopt(data.signIn);
      await start();
    } catch (e) {
      $('signin-error').textContent =
        e.reason === 'INVALID_CREDENTIALS' ? '账号或密码错误'
          : e.code === 'RATE_LIMITED' ? '尝试次数过多，请稍后再试'
            : `登录失败：${e.message}`;
    } finally {
      button.disabled = false;
    }
  });
  $('signout').addEventListener('click', async () => {
    const token = session && session.accessToken;
    signedOut('');
    if (token) post('DashboardSignOut', {}, token).catch(() => {});
  });
  $('scope').addEventListener('change', (e) => chooseScope(e.target.value));
  $('year').addEventListener('change', (e) => {
    year = Number(e.target.value);
    followFigures();
  });
  $('detail-close').addEventListener('click', () => $('detail').close());
  window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));

  const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  if (stored) {
    session = stored;
    scheduleRefresh(session.refreshAt - Date.now());
    start();
  } else {
    $('signin').hidden = false;
  }
})();
