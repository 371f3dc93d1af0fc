package dev.ratelimit.spring.boot.autoconfigure;

import org.springframework.core.convert.converter.Converter;

import dev.ratelimit.Rate;

/**
 * Binds rates written as {@code permits/period} ({@code 100/1s}, {@code 0.5/s}, {@code 10000/1d}).
 */
final class StringToRateConverter implements Converter<String, Rate> {

	@Override
	public Rate convert(String source) {
		return Rate.parse(source);
	}

}
