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


  // Photos (随手拍): camera or album, at most MAX_PHOTOS. Each is uploaded as soon as it
  // is chosen (uploadAttachment, a GraphQL multipart request), at most PARALLEL at a
  // time: the server decodes a few photos at once and counts anonymous uploads per
  // address, so the page never sends more together. Each shows its preview (an object
  // URL), its progress (XMLHttpRequest's upload events), and, when it failed, a retry;
  // one failure never stops the others. The submission sends the uploaded ids.
  var MAX_PHOTOS = 9, PARALLEL = 2, photos = [], active = 0, idle = [];

  function button(text) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn2';
    b.textContent = text;
    return b;
  }

  function renumber() {
    photos.forEach(function (p, i) {
      var name = '照片' + (i + 1);
      p.img.alt = name + '预览';
      p.bar.setAttribute('aria-label', name + '上传进度');
      p.retry.setAttribute('aria-label', '重新上传' + name);
      p.remove.setAttribute('aria-label', '移除' + name);
    });
    $('photos').disabled = photos.length >= MAX_PHOTOS;
  }

  var STATUS = { queued: '等待上传', uploading: '正在上传', done: '已上传' };
  function setState(p, state, message) {
    p.state = state;
    p.li.setAttribute('data-state', state);
    if (state === 'done') p.bar.value = 100;
    if (state === 'queued') p.bar.value = 0;
    p.status.textContent = state === 'failed' ? '上传失败：' + message : STATUS[state];
    p.retry.hidden = state !== 'failed';
  }

  function addPhoto(file) {
    var p = { file: file, id: null, xhr: null, removed: false, url: URL.createObjectURL(file) };
    p.li = document.createElement('li');
    p.li.className = 'photo';
    p.img = document.createElement('img');
    p.img.src = p.url;
    var box = document.createElement('div'), row = document.createElement('div');
    p.bar = document.createElement('progress');
    p.bar.max = 100;
    p.bar.value = 0;
    p.status = document.createElement('p');
    p.status.className = 'photo-status';
    p.retry = button('重试');
    p.remove = button('移除');
    row.className = 'row';
    [p.retry, p.remove].forEach(function (b) { row.appendChild(b); });
    [p.bar, p.status, row].forEach(function (el) { box.appendChild(el); });
    p.li.appendChild(p.img);
    p.li.appendChild(box);
    p.retry.addEventListener('click', function () { setState(p, 'queued'); pump(); });
    p.remove.addEventListener('click', function () { removePhoto(p); });
    photos.push(p);
    $('photo-list').appendChild(p.li);
    setState(p, 'queued');
  }

  function addPhotos() {
    var chosen = Array.from($('photos').files || []);
    var taken = chosen.slice(0, Math.max(MAX_PHOTOS - photos.length, 0));
    taken.forEach(addPhoto);
    var left = chosen.length - taken.length;
    S.say('photos-note', left > 0 ? '最多可添加' + MAX_PHOTOS + '张照片，已保留' + photos.length + '张，另外' + left + '张未添加。' : '');
    $('photos').value = '';
    renumber();
    pump();
  }

  function removePhoto(p) {
    p.removed = true;
    if (p.xhr) p.xhr.abort();
    URL.revokeObjectURL(p.url);
    p.li.parentNode.removeChild(p.li);
    photos.splice(photos.indexOf(p), 1);
    S.say('photos-note', '');
    renumber();
    pump();
    $('photos').focus();
  }

  function pump() {
    while (active < PARALLEL) {
      var next = photos.filter(function (p) { return p.state === 'queued'; })[0];
      if (!next) break;
      active++;
      send(next);
    }
    if (!photos.some(function (p) { return p.state === 'queued' || p.state === 'uploading'; })) {
      idle.splice(0).forEach(function (done) { done(); });
    }
  }

  function whenIdle() {
    return new Promise(function (done) { idle.push(done); pump(); });
  }

  function send(p) {
    var op = OPS.UploadAttachment, xhr = new XMLHttpRequest(), over = false;
    var form = new FormData();
    form.append('operations', JSON.stringify({
      operationName: 'UploadAttachment',
      query: op.query,
      variables: { file: null, purpose: 'PETITION' },
      extensions: { persistedQuery: { version: 1, sha256Hash: op.id } }
    }));
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', p.file, p.file.name || 'photo.jpg');
    function end(id, message) {
      if (over) return;
      over = true;
      active--;
      p.xhr = null;
      if (!p.removed) { if (id) { p.id = id; setState(p, 'done'); } else setState(p, 'failed', message); }
      pump();
    }
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round(e.loaded * 100 / e.total);
      p.bar.value = Math.min(percent, 99);
      p.status.textContent = percent >= 100 ? '正在处理' : '正在上传 ' + percent + '%';
    };
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      var made = body && body.data && body.data.uploadAttachment;
      if (made) return end(made.id);
      var first = body && body.errors && body.errors[0];
      end(null, first ? S.clean(first.message) : '服务暂时不可用（' + xhr.status + '）');
    };
    xhr.onerror = function () { end(null, '网络连接失败'); };
    xhr.ontimeout = function () { end(null, '上传超时'); };
    xhr.onabort = function () { end(null, '已取消'); };
    p.xhr = xhr;
    setState(p, 'uploading');
    xhr.open('POST', '/graphql');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.timeout = 120000;
    xhr.send(form);
  }

  // The uploaded photos' ids once every upload has ended; null (and the first failed
  // one named, its retry focused) while one has failed.
  async function photoIds() {
    await whenIdle();
    var failed = photos.filter(function (p) { return p.state === 'failed'; })[0];
    if (failed) {
      S.say('submit-error', '照片' + (photos.indexOf(failed) + 1) + '上传失败，请点“重试”，或“移除”后再提交。');
      failed.retry.focus();
      return null;
    }
    return photos.map(function (p) { return p.id; });
  }

  function clearPhotos() {
    photos.splice(0).forEach(function (p) { URL.revokeObjectURL(p.url); p.li.parentNode.removeChild(p.li); });
    S.say('photos-note', '');
    renumber();
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
    var submitButton = $('submit');
    submitButton.disabled = true;
    submitButton.textContent = photos.length ? '正在上传照片…' : '正在提交…';
    var ids = await photoIds();
    if (!ids) {
      busy = false;
      submitButton.disabled = false;
      submitButton.textContent = '提交留言';
      return;
    }
    submitButton.textContent = '正在提交…';
    var title = titleOf(category, content);
    var input = { title: title, content: content, channel: 'QR_CODE', deputyCode: code, submitterName: name || null, submitterPhone: phone };
    if (ids.length) input.attachmentIds = ids;
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
      clearPhotos();
      S.hide('form');
      S.show('done');
      $('done-title').focus();
    } catch (e) {
      var field = { content: 'content', title: 'content', submitterPhone: 'phone', submitterName: 'name' }[e.field];
      if (field) { fieldError(field, e.message); $(field).focus(); }
      S.say('submit-error', e.code === 'RATE_LIMITED' ? e.message : '提交失败：' + e.message);
    } finally {
      busy = false;
      submitButton.disabled = false;
      submitButton.textContent = '提交留言';
    }
  }

  $('form').addEventListener('submit', submit);
  $('photos').addEventListener('change', addPhotos);
  $('again').addEventListener('click', function () {
    S.hide('done');
    S.show('form');
    $('content').focus();
  });
  load();
})();
