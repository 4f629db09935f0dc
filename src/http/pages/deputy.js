/* /m/d/{code}: the message form a deputy's QR code opens. */
(function () {
  var $ = S.$, code = S.lastSegment(), busy = false;
  var LEVELS = { NATIONAL: '全国人大代表', PROVINCIAL: '省人大代表', MUNICIPAL: '市人大代表', COUNTY: '县人大代表', TOWNSHIP: '乡镇人大代表' };

  async function load() {
    try {
      var data = await S.gql('DeputyPage', { code: code });
      var d = data.deputyByCode;
      if (!d) { S.hide('deputy'); S.say('load-error', '未找到该代表，请核对二维码。'); return; }
      code = d.code;
      $('deputy-name').textContent = d.name;
      $('deputy-level').textContent = LEVELS[d.level] || '人大代表';
      var stations = (d.stations && d.stations.nodes || []).map(function (s) { return s.name; });
      if (stations.length) { $('deputy-station').textContent = '驻站：' + stations.join('、'); S.show('deputy-station'); }
      document.title = '给' + d.name + '代表留言 - 智慧人大';
      var select = $('category');
      (data.categories || []).forEach(function (c) {
        var option = document.createElement('option');
        option.value = c.name;
        option.textContent = c.name;
        select.appendChild(option);
      });
      S.hide('deputy-loading');
      S.show('deputy-info');
      S.show('form');
    } catch (e) {
      S.hide('deputy');
      S.say('load-error', e.message + ' 请刷新页面重试。');
    } finally {
      $('deputy').setAttribute('aria-busy', 'false');
    }
  }

  function fieldError(id, message) {
    var input = $(id);
    if (message) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    S.say(id + '-error', message);
    return message ? input : null;
  }

  // The API wants a title; the citizen writes one message: the category and its start.
  function titleOf(category, content) {
    var chars = Array.from(content.replace(/\s+/g, ' '));
    var head = chars.slice(0, 30).join('') + (chars.length > 30 ? '…' : '');
    return (category ? '【' + category + '】' : '') + head;
  }

  function phoneOk(raw) {
    var digits = raw.replace(/[\s\-()]/g, '').replace(/^(\+86|0086)/, '');
    return /^1[3-9]\d{9}$/.test(digits);
  }

  var pending = null;

  // The browser's position (WGS-84), when the citizen ticked the box and allowed it;
  // null otherwise: a message never waits more than 10 s for it, nor fails without it.
  function here() {
    if (!$('share-location').checked || !navigator.geolocation) return Promise.resolve(null);
    return new Promise(function (resolve) {
      // The browser's own timeout does not count the time its permission prompt stays
      // unanswered: the message goes without a place after 10 s either way.
      var timer = setTimeout(function () { resolve(null); }, 10000);
      navigator.geolocation.getCurrentPosition(function (p) {
        clearTimeout(timer);
        // A fix rougher than 100 km (an IP guess) says nothing about the place.
        if (!(p.coords.accuracy <= 100000)) return resolve(null);
        resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy, coordinateSystem: 'WGS84' });
      }, function () { clearTimeout(timer); resolve(null); }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }


  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    var content = $('content').value.trim(), phone = $('phone').value.trim();
    var name = $('name').value.trim(), category = $('category').value;
    S.say('submit-error', '');
    var first = null;
    first = fieldError('content', Array.from(content).length < 5 ? '请填写留言内容，至少5个字。' : '') || first;
    fieldError('name', '');
    var phoneInvalid = fieldError('phone', !phone ? '请填写手机号码，方便工作人员联系您。' : (phoneOk(phone) ? '' : '请填写正确的11位手机号码。'));
    first = first || phoneInvalid;
    if (first) { first.focus(); return; }
    busy = true;
    var button = $('submit');
    button.disabled = true;
    button.textContent = '正在提交…';
    var title = titleOf(category, content);
    var input = { title: title, content: content, channel: 'QR_CODE', deputyCode: code, submitterName: name || null, submitterPhone: phone };
    // The same submission sent again (after a failure) keeps its key; a changed one gets a new key.
    var body = JSON.stringify(input) + $('share-location').checked;
    if (!pending || pending.body !== body) pending = { body: body, key: S.newKey(), location: await here() };
    if (pending.location) input.location = pending.location;
    try {
      var data = await S.gql('SubmitPetition', {
        input: input
      }, 2, pending.key);
      pending = null;
      var result = data.submitPetition;
      S.remember(result.trackingCode, result.followSecret, title);
      $('tracking-code').textContent = result.trackingCode;
      $('follow-secret').textContent = result.followSecret || '（无）';
      $('track-link').href = '/m/t/' + encodeURIComponent(result.trackingCode);
      $('form').reset();
      S.hide('form');
      S.show('done');
      $('done-title').focus();
    } catch (e) {
      var field = { content: 'content', title: 'content', submitterPhone: 'phone', submitterName: 'name' }[e.field];
      if (field) { fieldError(field, e.message); $(field).focus(); }
      S.say('submit-error', e.code === 'RATE_LIMITED' ? e.message : '提交失败：' + e.message);
    } finally {
      busy = false;
      button.disabled = false;
      button.textContent = '提交留言';
    }
  }

  $('form').addEventListener('submit', submit);
  $('again').addEventListener('click', function () {
    S.hide('done');
    S.show('form');
    $('content').focus();
  });
  load();
})();
