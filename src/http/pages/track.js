/* /m/t/{trackingCode}: follow an item; with the follow secret, see the result and rate it. */
(function () {
  var $ = S.$, code = S.lastSegment().toUpperCase(), secret = null, busy = false;
  var STATES = {
    SUBMITTED: '已收到，等待站点登记', REGISTERED: '站点已登记建账', FORWARDED: '已转交承办部门',
    ACCEPTED: '承办部门正在办理', RESOLVED: '已反馈办理结果，请您评价', CLOSED: '已办结',
    DECLINED: '不予受理', MERGED: '已与相同事项合并办理'
  };
  var STEPS = [['collectedAt', '留言已收到'], ['registeredAt', '站点登记建账'], ['acceptedAt', '承办部门承接办理'], ['resolvedAt', '反馈办理结果'], ['closedAt', '办结']];
  var RATINGS = { SATISFIED: '满意', BASICALLY_SATISFIED: '基本满意', UNSATISFIED: '不满意' };

  function lookup() {
    S.show('lookup');
    S.hide('other');
    var list = S.items();
    if (list.length) {
      var ul = $('recent-list');
      list.forEach(function (item) {
        var li = document.createElement('li'), a = document.createElement('a');
        a.href = '/m/t/' + encodeURIComponent(item.c);
        a.textContent = item.c + (item.t ? '　' + item.t : '');
        li.appendChild(a);
        ul.appendChild(li);
      });
      S.show('recent');
    }
    $('lookup-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var value = $('lookup-code').value.replace(/[\s-]/g, '').toUpperCase();
      if (!/^HS[2-9A-HJKMNP-Z]{10}$/.test(value)) {
        $('lookup-code').setAttribute('aria-invalid', 'true');
        S.say('lookup-error', '查询码格式不正确，请核对后重新输入。');
        $('lookup-code').focus();
        return;
      }
      location.href = '/m/t/' + value;
    });
  }

  function render(tracked) {
    var st = tracked.status, p = tracked.petition;
    $('code').textContent = st.trackingCode;
    $('state').textContent = STATES[st.state] || st.state;
    S.show('overdue', !!st.isOverdue && ['RESOLVED', 'CLOSED', 'DECLINED', 'MERGED'].indexOf(st.state) < 0);
    var ol = $('steps'), last = -1;
    ol.textContent = '';
    STEPS.forEach(function (s, i) { if (st[s[0]]) last = i; });
    STEPS.forEach(function (s, i) {
      var at = st[s[0]];
      if (!at && i < last) return; // a step this item did not need
      var li = document.createElement('li');
      li.textContent = s[1];
      if (at) {
        li.className = 'done';
        var time = document.createElement('time');
        time.setAttribute('datetime', at);
        time.textContent = '已完成 ' + S.when(at);
        li.appendChild(time);
      } else {
        var todo = document.createElement('time');
        todo.textContent = '未开始';
        li.appendChild(todo);
      }
      ol.appendChild(li);
    });
    S.show('status');
    if (p) {
      S.say('d-title', p.title === p.content ? '' : p.title);
      $('d-content').textContent = p.content;
      var where = [];
      if (p.deputy) where.push('代表：' + p.deputy.name);
      if (p.station) where.push('站点：' + p.station.name);
      S.say('d-where', where.join('　'));
      S.show('d-result-box', !!p.result);
      $('d-result').textContent = p.result || '';
      S.show('d-decline-box', !!p.declineReason);
      $('d-decline').textContent = p.declineReason || '';
      var rated = st.state !== 'RESOLVED' && p.satisfaction;
      S.say('d-rated', rated ? '您的评价：' + RATINGS[p.satisfaction] : '');
      S.show('detail');
      S.hide('secret-form');
      S.show('rate-form', st.state === 'RESOLVED');
    } else {
      S.hide('detail');
      S.hide('rate-form');
      S.show('secret-form');
    }
  }

  async function fetchTracked(withSecret) {
    return (await S.gql('TrackPetition', { c: code, s: withSecret || null })).trackPetition;
  }

  async function load() {
    S.show('loading');
    var saved = S.find(code);
    secret = saved && saved.s || null;
    try {
      var tracked;
      try {
        tracked = await fetchTracked(secret);
      } catch (e) {
        if (!secret || e.code !== 'FORBIDDEN') throw e;
        S.forgetSecret(code); // a stale secret: fall back to the public status
        secret = null;
        tracked = await fetchTracked(null);
      }
      S.hide('load-error');
      render(tracked);
    } catch (e) {
      S.say('load-error', e.code === 'NOT_FOUND' ? '未找到该查询码对应的留言，请核对后重试。' : e.message);
      S.show('lookup');
    } finally {
      S.hide('loading');
    }
  }

  async function useSecret(event) {
    event.preventDefault();
    if (busy) return;
    var value = $('secret').value.trim();
    if (!value) {
      $('secret').setAttribute('aria-invalid', 'true');
      S.say('secret-error', '请输入查询密钥。');
      $('secret').focus();
      return;
    }
    busy = true;
    $('secret-submit').disabled = true;
    try {
      var tracked = await fetchTracked(value);
      secret = value;
      S.remember(code, value, tracked.petition ? tracked.petition.title : '');
      $('secret').removeAttribute('aria-invalid');
      S.say('secret-error', '');
      render(tracked);
      $('detail-title').focus();
    } catch (e) {
      $('secret').setAttribute('aria-invalid', 'true');
      S.say('secret-error', e.code === 'FORBIDDEN' ? '查询密钥不正确，请核对后重新输入。' : e.message);
      $('secret').focus();
    } finally {
      busy = false;
      $('secret-submit').disabled = false;
    }
  }

  async function rate(event) {
    event.preventDefault();
    if (busy) return;
    var chosen = document.querySelector('input[name=satisfaction]:checked');
    S.say('rate-error', '');
    if (!chosen) {
      S.say('rate-choice-error', '请选择满意、基本满意或不满意。');
      document.querySelector('input[name=satisfaction]').focus();
      return;
    }
    S.say('rate-choice-error', '');
    busy = true;
    $('rate-submit').disabled = true;
    $('rate-submit').textContent = '正在提交…';
    try {
      await S.gql('RatePetition', {
        c: code, s: secret, v: chosen.value, m: $('comment').value.trim() || null
      }, 2);
      $('rate-form').reset();
      render(await fetchTracked(secret));
      S.say('d-rated', '感谢您的评价：' + RATINGS[chosen.value] + (chosen.value === 'UNSATISFIED' ? '。事项将重新交办处理。' : '。'));
      $('state').focus();
    } catch (e) {
      S.say('rate-error', '评价提交失败：' + e.message);
    } finally {
      busy = false;
      $('rate-submit').disabled = false;
      $('rate-submit').textContent = '提交评价';
    }
  }

  $('secret-form').addEventListener('submit', useSecret);
  $('rate-form').addEventListener('submit', rate);
  if (code) load(); else lookup();
})();
