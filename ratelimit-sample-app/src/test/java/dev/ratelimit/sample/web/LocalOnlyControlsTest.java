package dev.ratelimit.sample.web;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** The demo's controls answer only calls from the machine the sample runs on. */
class LocalOnlyControlsTest {

	private final LocalOnlyControls.LoopbackOnly guard = new LocalOnlyControls.LoopbackOnly();

	private MockHttpServletResponse call(String from) throws Exception {
		MockHttpServletRequest request = new MockHttpServletRequest("POST", "/partner/brownout");
		request.setRemoteAddr(from);
		MockHttpServletResponse response = new MockHttpServletResponse();
		boolean through = this.guard.preHandle(request, response, new Object());
		assertThat(through).isEqualTo(response.getStatus() == 200);
		return response;
	}

	@Test
	void loopbackCallsGoThrough() throws Exception {
		assertThat(call("127.0.0.1").getStatus()).isEqualTo(200);
		assertThat(call("::1").getStatus()).isEqualTo(200);
		assertThat(call("0:0:0:0:0:0:0:1").getStatus()).isEqualTo(200);
	}

	@Test
	void anyOtherCallerIsRefused() throws Exception {
		for (String from : new String[] { "203.0.113.9", "10.0.0.7", "192.168.1.20", "2001:db8::1", "", "not-an-address" }) {
			MockHttpServletResponse response = call(from);
			assertThat(response.getStatus()).as(from).isEqualTo(403);
			assertThat(response.getErrorMessage()).contains("only calls from the machine");
		}
	}

}
