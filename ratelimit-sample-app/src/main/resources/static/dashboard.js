// The sample's dashboard: polls /dashboard/data every second and charts the last five minutes.
// Counts arrive as totals since start; the page turns them into rates per second.
// window.dashboard exposes the state for the browser test.
(function () {
	'use strict';

	const POLL_MILLIS = 1000;
	const KEEP_POINTS = 300;
	const SEVERITIES = ['NORMAL', 'WARNING', 'CRITICAL', 'EMERGENCY'];

	const state = { samples: 0, errors: 0, charts: {}, previous: null };
	window.dashboard = state;

	function width(element) {
		return Math.max(300, element.clientWidth - 16);
	}

	// One chart: times plus named series, each a line; series on the 'right' scale use the right axis.
	function chart(id, title, subtitle, series, right) {
		const card = document.createElement('div');
		card.className = 'card';
		card.id = 'chart-' + id;
		const heading = document.createElement('h2');
		heading.textContent = title + ' ';
		const small = document.createElement('small');
		small.textContent = subtitle;
		heading.appendChild(small);
		card.appendChild(heading);
		document.getElementById('charts').appendChild(card);
		const scales = { x: { time: true } };
		const axes = [{}, { label: series.filter((s) => !s.right).map((s) => s.label).join(', ') }];
		if (right) {
			scales.right = right.range ? { range: right.range } : {};
			axes.push({ scale: 'right', side: 1, label: right.label, grid: { show: false } });
		}
		const plot = new uPlot({
			width: width(card),
			height: 220,
			scales: scales,
			axes: axes,
			series: [{}].concat(series.map((s) => ({
				label: s.label,
				stroke: s.color,
				width: 1.5,
				scale: s.right ? 'right' : 'y',
				paths: s.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
				value: (u, v) => (v == null ? '-' : (Math.round(v * 100) / 100).toString())
			})))
		}, [[]].concat(series.map(() => [])), card);
		const entry = { plot: plot, data: [[]].concat(series.map(() => [])) };
		state.charts[id] = entry;
		return entry;
	}

	function push(entry, time, values) {
		entry.data[0].push(time);
		values.forEach((value, i) => entry.data[i + 1].push(value));
		if (entry.data[0].length > KEEP_POINTS) {
			entry.data.forEach((column) => column.shift());
		}
		entry.plot.setData(entry.data);
	}

	function perSecond(now, before, seconds) {
		if (before == null || seconds <= 0) {
			return null;
		}
		return Math.max(0, (now - before) / seconds);
	}

	function limiterChart(limiter) {
		return chart(limiter.name, limiter.name, limiter.backend ? '(' + limiter.backend + ')' : '(per key)', [
			{ label: 'rate', color: '#888', stepped: true },
			{ label: 'permitted/s', color: '#2e7d32' },
			{ label: 'rejected/s', color: '#c62828' },
			{ label: 'utilization %', color: '#1565c0', right: true }
		], { label: 'utilization %', range: [0, 100] });
	}

	function text(id, value) {
		document.getElementById(id).textContent = (value == null || value < 0) ? '-' : String(value);
	}

	function showAdaptive(controllers) {
		const holder = document.getElementById('adaptive');
		holder.replaceChildren(...controllers.map((c) => {
			const box = document.createElement('div');
			box.id = 'adaptive-' + c.name;
			const label = document.createElement('span');
			label.className = 'label';
			label.textContent = 'adaptive ' + c.name + (c.detail ? ': ' + c.detail : '');
			const value = document.createElement('span');
			value.className = 'value severity-' + c.severity;
			value.textContent = c.severity + ' ' + (Math.round(c.rate * 100) / 100) + '/s of ' + c.ceiling + '/s';
			box.append(label, value);
			Object.keys(c.loads || {}).forEach((signal) => {
				const load = c.loads[signal];
				const reading = document.createElement('span');
				reading.className = 'load severity-' + load.severity;
				reading.id = 'load-' + c.name + '-' + signal;
				reading.textContent = signal + ' ' + (Math.round(load.reading * 1000) / 1000) + ' ' + load.severity;
				box.append(reading);
			});
			return box;
		}));
	}

	function render(data) {
		const time = data.time / 1000;
		const before = state.previous;
		const seconds = before ? time - before.time / 1000 : 0;
		const previousLimiters = {};
		(before ? before.limiters : []).forEach((l) => { previousLimiters[l.name] = l; });

		const orders = data.limiters.find((l) => l.name === 'orders');
		text('accepted', data.orders.accepted);
		text('rejected', orders ? orders.rejected : null);
		text('processed', data.orders.processed);
		text('shipped', data.orders.shipped);
		text('lag-orders', data.lag.orders);
		text('lag-warehouse', data.lag.warehouse);
		text('partner-refused', data.partner.refused);
		showAdaptive(data.adaptive);

		const processing = state.charts.processing || chart('processing', 'Drain', 'orders processed per second',
			[{ label: 'processed/s', color: '#2e7d32' }, { label: 'drain rate', color: '#888', stepped: true },
				{ label: 'partner rate', color: '#6a1b9a', stepped: true }]);
		const drain = data.adaptive.find((c) => c.name === 'drain');
		const partner = data.adaptive.find((c) => c.name === 'partner');
		push(processing, time, [perSecond(data.orders.processed, before && before.orders.processed, seconds),
			drain ? drain.rate : null, partner ? partner.rate : null]);

		const lag = state.charts.lag || chart('lag', 'Consumer lag and severity', 'records behind; severity 0 normal .. 3 emergency', [
			{ label: 'orders lag', color: '#1565c0' },
			{ label: 'warehouse lag', color: '#ef6c00' },
			{ label: 'drain severity', color: '#c62828', right: true, stepped: true },
			{ label: 'partner severity', color: '#6a1b9a', right: true, stepped: true }
		], { label: 'severity', range: [0, 3] });
		push(lag, time, [data.lag.orders < 0 ? null : data.lag.orders, data.lag.warehouse < 0 ? null : data.lag.warehouse,
			drain ? drain.level : null, partner ? partner.level : null]);

		// the load signal of this instance's sends: the process's CPU usage, and its level
		const sends = data.adaptive.find((c) => c.name === 'shipments-out');
		const cpu = sends && sends.loads ? sends.loads['process-cpu'] : null;
		const load = state.charts.load || chart('load', 'Process CPU and its severity',
			'CPU % of the shipments-out load signal; warning above 85%, back to normal below 75%', [
				{ label: 'process cpu %', color: '#00838f' },
				{ label: 'cpu severity', color: '#c62828', right: true, stepped: true }
			], { label: 'severity', range: [0, 3] });
		push(load, time, [cpu ? Math.round(cpu.reading * 1000) / 10 : null,
			cpu ? SEVERITIES.indexOf(cpu.severity) : null]);

		data.limiters.forEach((limiter) => {
			const entry = state.charts[limiter.name] || limiterChart(limiter);
			const last = previousLimiters[limiter.name];
			push(entry, time, [limiter.rate,
				perSecond(limiter.permitted, last && last.permitted, seconds),
				perSecond(limiter.rejected, last && last.rejected, seconds),
				limiter.utilization == null ? null : limiter.utilization * 100]);
		});

		state.previous = data;
		state.samples++;
		text('samples', state.samples);
	}

	async function poll() {
		try {
			const response = await fetch('/dashboard/data', { headers: { Accept: 'application/json' } });
			if (response.ok) {
				render(await response.json());
			}
			else {
				state.errors++;
			}
		}
		catch (e) {
			state.errors++;
		}
		setTimeout(poll, POLL_MILLIS);
	}

	async function post(path, init) {
		const response = await fetch(path, Object.assign({ method: 'POST' }, init || {}));
		return response.status;
	}

	function status(message) {
		document.getElementById('status').textContent = message;
	}

	document.getElementById('burst').addEventListener('click', async () => {
		const body = JSON.stringify({ item: 'book', quantity: 1 });
		const headers = { 'Content-Type': 'application/json', 'X-Tenant': 'acme' };
		const codes = await Promise.all(Array.from({ length: 50 }, () => post('/orders', { headers: headers, body: body })));
		const accepted = codes.filter((c) => c === 202).length;
		status('burst: ' + accepted + ' accepted, ' + codes.filter((c) => c === 429).length + ' rejected with 429');
	});
	document.getElementById('slow').addEventListener('click', async () => status('downstream slow: ' + await post('/downstream/slow')));
	document.getElementById('fast').addEventListener('click', async () => status('downstream fast: ' + await post('/downstream/fast')));
	document.getElementById('brownout').addEventListener('click', async () => status('partner brownout: ' + await post('/partner/brownout')));
	window.addEventListener('resize', () => Object.values(state.charts).forEach((entry) => {
		entry.plot.setSize({ width: width(entry.plot.root.parentNode), height: 220 });
	}));

	poll();
})();
