package dev.ratelimit.sample.web;

import java.net.InetAddress;
import java.net.UnknownHostException;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The demo's controls (a partner brownout, a slow or fast downstream) change how the whole
 * service behaves, so they answer only calls from this machine: anyone else gets 403, even when
 * the sample is made to listen on every address ({@code --server.address=0.0.0.0}).
 */
@Configuration(proxyBeanMethods = false)
public class LocalOnlyControls implements WebMvcConfigurer {

	/** The paths of the demo's controls. */
	static final String[] CONTROLS = { "/partner/brownout", "/downstream/slow", "/downstream/fast" };

	@Override
	public void addInterceptors(InterceptorRegistry registry) {
		registry.addInterceptor(new LoopbackOnly()).addPathPatterns(CONTROLS);
	}

	/** Lets a request through only from a loopback address. */
	static final class LoopbackOnly implements HandlerInterceptor {

		@Override
		public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler)
				throws Exception {
			if (isLoopback(request.getRemoteAddr())) {
				return true;
			}
			response.sendError(HttpStatus.FORBIDDEN.value(),
					"the demo's controls answer only calls from the machine the sample runs on");
			return false;
		}

		static boolean isLoopback(String address) {
			// an address literal, as the servlet container gives it (never a name to look up)
			if (address == null || !(address.contains(":") || address.matches("[0-9.]+"))) {
				return false;
			}
			try {
				return InetAddress.getByName(address).isLoopbackAddress();
			}
			catch (UnknownHostException ex) {
				return false;
			}
		}

	}

}
