//! One Lambda invocation with the input as its payload (LambdaHandler::handle:
//! classification and every decoder). The target name only picks the seeds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nubes_fuzz::aws_invoke(data));
